-- A customers import's kept records with the person each resolved to, for the attribute merge.
-- Grain: stg_customer_records, one per kept record (see customers_attributes.sql). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_customer_records AS
SELECT r._seq, c.customer_id, r.patch, r.not_attributes, r.drop_nulls, r.updated_at
FROM stg_rows AS r
JOIN stg_record_customers AS c ON c.record = r._seq;
