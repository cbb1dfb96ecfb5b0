-- For an entity whose records carry one id each (an order: its buyer), each id once: a buyer's orders are one
-- record for the graph, so that most buyers are people of their own (entities/identity/isolated.sql) and the graph's
-- work is the number of buyers, not of orders; entities/identity/shared_customers.sql gives every record its customer.
-- Grain in: stg_identity_links, one per record (record, id_type, business_unit, id_value).
-- Grain out: stg_shared_ids, one per record with the record standing for its id (the smallest);
-- stg_identity_links, one per distinct id. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_shared_ids AS
SELECT record, min(record) OVER (PARTITION BY id_type, business_unit, id_value) AS first_record
FROM stg_identity_links;

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT min(record) AS record, id_type, business_unit, id_value
FROM stg_identity_links
GROUP BY id_type, business_unit, id_value;
