-- One round of label propagation in the clusters that hold several external ids: each id that is not
-- fixed takes the smallest label of itself and its neighbours. Run until no label changes (etl.entities.identity.graph
-- counts them); labels starting with '0' (an external id's) are smaller than any starting with '1', so an id
-- reachable from an external id's person joins it, the smallest one when it reaches two.
-- Grain: id_nodes, one per id (node, fixed, label). Parameters: none.

CREATE OR REPLACE TEMP TABLE id_nodes_next AS
WITH neighbours AS (
    SELECT e.a AS node, min(n.label) AS label
    FROM id_edges AS e
    JOIN id_nodes AS n ON n.node = e.b
    GROUP BY e.a
)
SELECT
    id_nodes.* EXCLUDE (label),
    CASE WHEN id_nodes.fixed OR neighbours.label IS NULL THEN id_nodes.label
         ELSE least(id_nodes.label, neighbours.label) END AS label
FROM id_nodes
LEFT JOIN neighbours USING (node);

CREATE OR REPLACE TEMP TABLE id_label_changes AS
SELECT count(*) AS changed FROM id_nodes_next JOIN id_nodes USING (node) WHERE id_nodes_next.label <> id_nodes.label;

CREATE OR REPLACE TEMP TABLE id_nodes AS SELECT * FROM id_nodes_next;
