-- The import's records that are people of their own: every id new, carried by this record alone, and at most
-- one external id. Each is a cluster by itself (its smallest node) and a new customer, without propagation:
-- what most records of a first import are. The others go through identity_clusters and identity_region.
-- Grain in: stg_record_ids, stg_id_nodes (entities/identity/nodes.sql).
-- Grain out: stg_isolated, one per such record (record, cluster, customer_id: new); stg_isolated_nodes, one
-- per id of theirs; identities gains their ids. Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_isolated AS
WITH per_record AS (  -- records: count(*) of the import's ids, so an id twice in one record takes the long way
    SELECT r.record, bool_and(n.is_new AND n.records = 1) AS alone,
           count(*) FILTER (r.external) AS externals, min(r.node) AS cluster
    FROM stg_record_ids AS r
    JOIN stg_id_nodes AS n USING (node)
    GROUP BY r.record
)
SELECT record, cluster, nextval('customer_ids') AS customer_id
FROM per_record
WHERE alone AND externals <= 1;

CREATE OR REPLACE TEMP TABLE stg_isolated_nodes AS  -- each id once: it is its record's alone
SELECT r.node, i.cluster, i.customer_id
FROM stg_record_ids AS r
JOIN stg_isolated AS i USING (record);

INSERT INTO identities
SELECT n.id_type, n.business_unit, n.id_value, i.customer_id, $import_id, n.node, i.cluster
FROM stg_isolated_nodes AS i
JOIN stg_id_nodes AS n USING (node);
