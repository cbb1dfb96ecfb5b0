-- The clusters (connected parts of the whole graph) that this import's new links join, before their labels
-- are propagated (entities/identity/clusters_propagate.sql): each starts as its own label.
-- Grain in: stg_new_links, stg_id_nodes (entities/identity/nodes.sql), stg_isolated_nodes (whose links join nothing).
-- Grain out: cl_edges, both directions between the clusters at the two ends of a new link, where they
-- differ; cl_labels, one per cluster of cl_edges (cluster, label). Parameters: none.

CREATE OR REPLACE TEMP TABLE cl_edges AS
WITH ends AS (
    SELECT na.cluster AS x, nb.cluster AS y
    FROM (SELECT * FROM stg_new_links ANTI JOIN stg_isolated_nodes AS i ON i.node = stg_new_links.a) AS l
    JOIN stg_id_nodes AS na ON na.node = l.a
    JOIN stg_id_nodes AS nb ON nb.node = l.b
    WHERE na.cluster <> nb.cluster
)
SELECT x, y FROM ends
UNION
SELECT y, x FROM ends;

CREATE OR REPLACE TEMP TABLE cl_labels AS
SELECT DISTINCT x AS cluster, x AS label FROM cl_edges;
