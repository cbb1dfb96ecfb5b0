-- A customers import's kept records with the person each resolved to, for the attribute merge: all but the
-- skipped ones (entities/customers/known_settle.sql: not in stg_record_customers), which change nothing. Their patches
-- stay in stg_rows, read once by the statement that applies them.
-- Grain: stg_customer_records, one per such record (_seq, customer_id, drop_nulls, updated_at, record_hash;
-- see entities/customers/attributes.sql). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_customer_records AS
SELECT r._seq, c.customer_id, r.drop_nulls, r.updated_at,
       (r.hash_hi::UHUGEINT << 64) | r.hash_lo::UHUGEINT AS record_hash
FROM stg_rows AS r
JOIN stg_record_customers AS c ON c.record = r._seq
WHERE r.drop_nulls IS NOT NULL;  -- not the records staged apart (all skipped, but when the import runs again)
