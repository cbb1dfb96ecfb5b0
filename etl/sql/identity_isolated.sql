-- The import's records that are people of their own: every id new, carried by this record alone, and at most
-- one external id. Each is a cluster by itself (its smallest node) and a new customer, without propagation:
-- what most records of a first import are. The others go through identity_clusters and identity_region.
-- Grain in: stg_record_ids, stg_id_nodes (identity_nodes.sql).
-- Grain out: stg_isolated, one per such record (record, cluster, customer_id: new); stg_id_nodes.isolated set
-- for their ids; identities and stg_node_customers gain their ids. Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_isolated AS
WITH records_per_id AS (  -- count(*), not of distinct records: an id twice in one record only takes the long way
    SELECT node, count(*) AS records FROM stg_record_ids GROUP BY node
),
per_record AS (
    SELECT r.record, bool_and(n.is_new AND p.records = 1) AS alone,
           count(*) FILTER (r.external) AS externals, min(r.node) AS cluster
    FROM stg_record_ids AS r
    JOIN stg_id_nodes AS n USING (node)
    JOIN records_per_id AS p USING (node)
    GROUP BY r.record
)
SELECT record, cluster, nextval('customer_ids') AS customer_id
FROM per_record
WHERE alone AND externals <= 1;

CREATE OR REPLACE TEMP TABLE stg_isolated_nodes AS
SELECT DISTINCT r.node, i.cluster, i.customer_id
FROM stg_record_ids AS r
JOIN stg_isolated AS i USING (record);

UPDATE stg_id_nodes SET isolated = true
FROM stg_isolated_nodes AS i
WHERE stg_id_nodes.node = i.node;

INSERT INTO identities
SELECT n.id_type, n.business_unit, n.id_value, i.customer_id, $import_id, n.node, i.cluster
FROM stg_isolated_nodes AS i
JOIN stg_id_nodes AS n USING (node);
