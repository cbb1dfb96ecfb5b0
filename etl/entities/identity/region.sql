-- The part of the graph this import touched, whose people are computed again: every cluster holding an
-- id of a new link or a new id, after the clusters were joined (entities/identity/clusters_propagate.sql). Those
-- clusters hold every id of the customers they touch, so the rest of the graph stays as it is.
-- A cluster with at most one external id is one person. One with several is split by label propagation
-- (entities/identity/propagate.sql) over id_nodes and id_edges, set up here:
-- - an external id is fixed to itself ('0' || business unit, value), and so is an id linked to external
--   ids, to the smallest of them (at most one external id per person); other ids start at '1' || themselves;
-- - the edges are the links between ids that are not external ids, both directions.
-- Grain in: stg_id_nodes, stg_new_links, cl_labels (cluster -> its new label), identities, identity_links.
-- Grain out: rg_nodes, one per id of the region (node, its ids, cluster, old_customer: null when new);
-- rg_simple, the region's ids of clusters that are one person (node, component); id_nodes, id_edges.
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE rg_clusters AS
WITH touched AS (
    SELECT cluster FROM stg_id_nodes ANTI JOIN stg_isolated_nodes USING (node) WHERE is_new
    UNION
    SELECT n.cluster FROM stg_new_links AS l JOIN stg_id_nodes AS n ON n.node = l.a
    ANTI JOIN stg_isolated_nodes AS i ON i.node = l.a
)
SELECT DISTINCT coalesce(m.label, t.cluster) AS cluster
FROM touched AS t
LEFT JOIN cl_labels AS m USING (cluster);

CREATE OR REPLACE TEMP TABLE rg_nodes AS
WITH stored AS (
    SELECT i.node, i.id_type, i.business_unit, i.id_value, coalesce(m.label, i.cluster) AS cluster,
           i.customer_id AS old_customer
    FROM identities AS i
    LEFT JOIN cl_labels AS m USING (cluster)
),
added AS (
    SELECT n.node, n.id_type, n.business_unit, n.id_value, coalesce(m.label, n.cluster) AS cluster,
           NULL::BIGINT AS old_customer
    FROM stg_id_nodes AS n
    LEFT JOIN cl_labels AS m USING (cluster)
    ANTI JOIN stg_isolated_nodes AS i ON i.node = n.node
    WHERE n.is_new
)
SELECT * FROM stored WHERE cluster IN (SELECT cluster FROM rg_clusters)
UNION ALL
SELECT * FROM added;

CREATE OR REPLACE TEMP TABLE rg_split AS  -- clusters with several external ids: several people
SELECT cluster FROM rg_nodes GROUP BY cluster HAVING count(*) FILTER (id_type = 'external_id') > 1;

CREATE OR REPLACE TEMP TABLE id_nodes AS
WITH split AS (
    SELECT * FROM rg_nodes WHERE cluster IN (SELECT cluster FROM rg_split)
),
owners AS (  -- the smallest external id each id was linked to
    SELECT l.a AS node, min(x.business_unit || chr(31) || x.id_value) AS owner
    FROM identity_links AS l
    JOIN split AS x ON x.node = l.b
    WHERE l.external
    GROUP BY l.a
)
SELECT
    s.node,
    s.id_type = 'external_id' OR o.owner IS NOT NULL AS fixed,
    CASE WHEN s.id_type = 'external_id' THEN '0' || s.business_unit || chr(31) || s.id_value
         WHEN o.owner IS NOT NULL THEN '0' || o.owner
         ELSE '1' || s.id_type || chr(31) || s.business_unit || chr(31) || s.id_value END AS label
FROM split AS s
LEFT JOIN owners AS o USING (node);

CREATE OR REPLACE TEMP TABLE id_edges AS
SELECT l.a, l.b FROM identity_links AS l SEMI JOIN id_nodes AS n ON n.node = l.a WHERE NOT l.external
UNION
SELECT l.b, l.a FROM identity_links AS l SEMI JOIN id_nodes AS n ON n.node = l.a WHERE NOT l.external;
