-- The events of people the store does not know, for a format that takes events of known people only (eSputnik:
-- "you can send v1/event only for the existing contact"): rejected, and left out of what is stored.
-- Grain in: stg_event_records (entities/events/stage.sql), stg_rows (ids), identities (the store's, before this import).
-- Grain out: stg_unknown_people, one per record (new or repeated) none of whose ids is a stored identity, with
-- the ids it gave (an email is known by its sha256 as well); those records leave stg_event_records and stg_identity_links.
-- Parameters: $id_types (the type of each value of ids).

CREATE OR REPLACE TEMP TABLE stg_unknown_people AS
WITH records AS (
    SELECT _seq FROM stg_event_records WHERE change <> 'unchanged'
),

ids AS (
    SELECT r._seq, unnest($id_types::VARCHAR[]) AS id_type, unnest(r.ids) AS id_value
    FROM stg_rows AS r
    SEMI JOIN records USING (_seq)
),

with_hashes AS (  -- an email is known by its sha256 too (entities/identity/email_hashes.sql)
    SELECT _seq, id_type, id_value FROM ids
    UNION ALL
    SELECT _seq, 'email_sha256', sha256(id_value) FROM ids WHERE id_type = 'email'
),

known AS (
    SELECT DISTINCT ids._seq
    FROM with_hashes AS ids
    JOIN identities AS i ON i.id_type = ids.id_type AND i.id_value = ids.id_value AND i.business_unit = ''
)

SELECT
    ids._seq,
    string_agg(ids.id_type || ' ' || ids.id_value, ', ' ORDER BY ids.id_type) FILTER (WHERE ids.id_value IS NOT NULL)
        AS given
FROM ids
ANTI JOIN known USING (_seq)
GROUP BY ids._seq;

DELETE FROM stg_event_records WHERE _seq IN (SELECT _seq FROM stg_unknown_people);

DELETE FROM stg_identity_links WHERE record IN (SELECT _seq FROM stg_unknown_people);
