-- The import's ids, one row each.
-- Grain in: stg_record_ids (identity_nodes.sql, numbered). Grain out: stg_id_nodes, one per distinct id of the
-- import (node; cluster and customer_id as stored, the node itself and null when new). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_id_nodes AS
SELECT node, any_value(id_type) AS id_type, any_value(business_unit) AS business_unit,
       any_value(id_value) AS id_value, any_value(cluster) AS cluster, any_value(customer_id) AS customer_id,
       bool_or(customer_id IS NULL) AS is_new, false AS isolated  -- isolated: set by identity_isolated.sql
FROM stg_record_ids
GROUP BY node;
