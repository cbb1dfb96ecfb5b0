-- Upgrade a store written before orders resolved their buyers through the identity graph, step 1 of 2: every
-- distinct buyer of the stored orders as a record for etl.entities.identity.graph (which then runs, and adds their customers).
-- Grain out: stg_identity_links, one per distinct (user_id_type, user_id) of orders. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT row_number() OVER (ORDER BY user_id_type, user_id) AS record, user_id_type AS id_type, '' AS business_unit,
       user_id AS id_value
FROM (SELECT DISTINCT user_id_type, user_id FROM orders WHERE user_id_type IS NOT NULL AND user_id IS NOT NULL);
