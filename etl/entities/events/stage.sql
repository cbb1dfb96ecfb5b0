-- An events import's staged records, each with its identity and what becomes of it, and the people of the new
-- ones as the identity graph takes them (its rejects: entities/staged_rejects.sql).
-- Grain in: stg_rows (view), one per kept record (canonical event columns, etl.formats.events; a record staged
-- as known has its hash alone), events (the store's, by event_key).
-- Grain out: stg_event_records, one per kept record not known, narrow (the wide columns stay in stg_rows), with
-- `change`: added (its key is new: the first record of the import with it), repeated (an earlier record of the
-- import has its key) or unchanged (the store holds it), and an added one's event_id; stg_identity_links, one per id of an added record
-- (record = _seq).
-- Parameters: $id_types (the type of each value of ids), $record_offsets (for each file, the records of the
-- files before it: event ids follow the import's order).

CREATE OR REPLACE TEMP TABLE stg_event_records AS
WITH records AS (
    SELECT
        _seq,
        occurred_at IS NULL AS untimed,
        (key_hi::UHUGEINT << 64) | key_lo::UHUGEINT AS event_key
    FROM stg_rows
    WHERE event_type IS NOT NULL  -- a known record's placeholder has none
),

firsts AS (
    SELECT event_key, min(_seq) AS _seq FROM records GROUP BY event_key
),

stored AS (
    SELECT DISTINCT event_key FROM events SEMI JOIN firsts USING (event_key)
)

SELECT
    records.*,
    CASE WHEN firsts._seq IS NULL THEN 'repeated' WHEN stored.event_key IS NOT NULL THEN 'unchanged' ELSE 'added' END
        AS change,
    -- increasing, after the store's: the record's place in the import (gaps where records were not added)
    CASE WHEN change = 'added' THEN
        (SELECT coalesce(greatest(max(event_id), (SELECT max(event_id) FROM deleted_events)), 0) FROM events) + ($record_offsets::BIGINT[])[((records._seq >> 32) + 1)::BIGINT]
        + (records._seq & 4294967295)::BIGINT + 1
    END AS event_id
FROM records
LEFT JOIN firsts USING (_seq)
LEFT JOIN stored ON stored.event_key = records.event_key;

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT record, id_type, '' AS business_unit, id_value
FROM (
    SELECT r._seq AS record, unnest($id_types::VARCHAR[]) AS id_type, unnest(r.ids) AS id_value
    FROM stg_rows AS r
    SEMI JOIN stg_event_records AS e ON e._seq = r._seq AND e.change = 'added'
)
WHERE id_value IS NOT NULL;
