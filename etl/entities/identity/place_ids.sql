-- Every id of the region on its customer, once the merges are done (entities/identity/merge.sql): a customer
-- losing an id forgets its record hash, moved ids are updated, new ids added.
-- Grain in: id_components, component_customers (entities/identity/assign.sql), stg_isolated_nodes, rg_nodes,
-- identities, customers. Grain out: stg_node_customers, one per id of the region with its customer (and the
-- customer it had); identities updated and added. Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_node_customers AS
SELECT c.node, c.old_customer, c.cluster, cc.customer_id
FROM id_components AS c
JOIN component_customers AS cc USING (component)
UNION ALL
SELECT node, NULL, cluster, customer_id FROM stg_isolated_nodes;

-- a customer that loses an id forgets its record hash: the record it last applied may now resolve elsewhere
UPDATE customers SET record_hash = NULL
WHERE record_hash IS NOT NULL AND customer_id IN (
    SELECT old_customer FROM stg_node_customers WHERE old_customer IS NOT NULL AND old_customer <> customer_id
);

UPDATE identities SET customer_id = n.customer_id, cluster = n.cluster
FROM stg_node_customers AS n
WHERE identities.node = n.node AND n.old_customer IS NOT NULL
  AND (identities.customer_id <> n.customer_id OR identities.cluster <> n.cluster);

INSERT INTO identities  -- the isolated records' ids are in already (entities/identity/isolated.sql)
SELECT r.id_type, r.business_unit, r.id_value, cc.customer_id, $import_id, r.node, r.cluster
FROM rg_nodes AS r
JOIN id_components AS c USING (node)
JOIN component_customers AS cc USING (component)
WHERE r.old_customer IS NULL;
