-- A customers import's kept records with the person each resolved to, for the attribute merge: all but the
-- skipped ones (customers_known_settle.sql), which change nothing.
-- Grain: stg_customer_records, one per such record (see customers_attributes.sql). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_customer_records AS
WITH applied AS (
    SELECT * FROM stg_record_customers ANTI JOIN stg_skipped USING (record)
)
SELECT r._seq, c.customer_id, r.patch, r.not_attributes, r.drop_nulls, r.updated_at,
       (r.hash_hi::UHUGEINT << 64) | r.hash_lo::UHUGEINT AS record_hash
FROM stg_rows AS r
JOIN applied AS c ON c.record = r._seq;
