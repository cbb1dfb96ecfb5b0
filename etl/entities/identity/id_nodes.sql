-- The import's ids, one row each: the stored ones from stg_record_ids, the new ones as stg_new_ids has them
-- (which grouped them already).
-- Grain in: stg_record_ids (entities/identity/nodes.sql, numbered), stg_new_ids. Grain out: stg_id_nodes, one per
-- distinct id of the import (node; cluster and customer_id as stored, the node itself and null when new;
-- records: how many of the import's ids it is). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_id_nodes AS
SELECT node, any_value(id_type) AS id_type, any_value(business_unit) AS business_unit,
       any_value(id_value) AS id_value, any_value(cluster) AS cluster, any_value(customer_id) AS customer_id,
       false AS is_new, count(*) AS records
FROM stg_record_ids
WHERE customer_id IS NOT NULL
GROUP BY node
UNION ALL
SELECT node, id_type, business_unit, id_value, node AS cluster, NULL::BIGINT AS customer_id, true AS is_new, records
FROM stg_new_ids;
