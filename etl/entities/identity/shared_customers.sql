-- Every record of an entity with one id a record gets the customer of the record that stood for its id
-- (entities/identity/shared_ids.sql).
-- Grain in: stg_shared_ids, stg_record_customers (one per standing record). Grain out: stg_record_customers,
-- one per record. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_shared_customers AS
SELECT s.record, c.customer_id
FROM stg_shared_ids AS s
JOIN stg_record_customers AS c ON c.record = s.first_record;

DROP TABLE stg_record_customers;

ALTER TABLE stg_shared_customers RENAME TO stg_record_customers;
