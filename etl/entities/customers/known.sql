-- A customers import's records staged as known (keys and hash alone, no drop_nulls: etl.pipeline.known) that were
-- applied before: the record's hash is the one its customer keeps
-- (customers.record_hash, the last record applied to it alone). Such a record changes nothing: its ids are
-- stored and linked already (ids and links are never taken away), and its customer is the one it resolved
-- to, because a customer that loses an id, or is merged, forgets its hash. So it skips the identity graph and
-- the attribute merge, unless the import's other records touch its customer (entities/customers/known_settle.sql).
-- Grain in: stg_rows (view: _seq, hash_hi, hash_lo ...), customers.
-- Grain out: stg_known, one per such record (record, customer_id, record_hash); stg_unknown_rows (view), the
-- records read whole. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_known AS
WITH hashed AS (
    SELECT _seq AS record, (hash_hi::UHUGEINT << 64) | hash_lo::UHUGEINT AS record_hash
    FROM stg_rows
    WHERE drop_nulls IS NULL
)
SELECT h.record, c.customer_id, h.record_hash
FROM hashed AS h
JOIN customers AS c USING (record_hash);

DELETE FROM stg_known  -- a hash two customers hold says nothing (none should: see the header)
WHERE record IN (SELECT record FROM stg_known GROUP BY record HAVING count(*) > 1);

CREATE OR REPLACE TEMP VIEW stg_unknown_rows AS
SELECT * FROM stg_rows WHERE drop_nulls IS NOT NULL;
