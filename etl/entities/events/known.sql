-- The records staged as known (keys and hash alone: etl.pipeline.known) that the import needs whole: a record that
-- only shares its hash's high half with one an event was stored from (its whole hash is no event's record_hash).
-- The engine then stages and stores the import again, nothing known.
-- Grain in: stg_rows (view; a known record's placeholder has no event_type), events.
-- Grain out: stg_known_needed, one row: how many records staged as known are needed whole. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_known_needed AS
SELECT count(*) AS needed
FROM stg_rows AS r
ANTI JOIN events AS e ON e.record_hash = (r.hash_hi::UHUGEINT << 64) | r.hash_lo::UHUGEINT
WHERE r.event_type IS NULL;
