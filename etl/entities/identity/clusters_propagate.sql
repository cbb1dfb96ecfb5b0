-- One round of propagation over the clusters: each takes the smallest label of itself, its neighbours and
-- its label's (which jumps along chains). Run until no label changes (etl.entities.identity.graph counts them).
-- Grain: cl_labels, one per cluster (cluster, label); cl_changes, the count that changed. Parameters: none.

CREATE OR REPLACE TEMP TABLE cl_next AS
WITH neighbours AS (
    SELECT e.x AS cluster, min(n.label) AS label
    FROM cl_edges AS e
    JOIN cl_labels AS n ON n.cluster = e.y
    GROUP BY e.x
)
SELECT l.cluster, least(l.label, nb.label, jump.label) AS label
FROM cl_labels AS l
JOIN neighbours AS nb USING (cluster)
JOIN cl_labels AS jump ON jump.cluster = l.label;

CREATE OR REPLACE TEMP TABLE cl_changes AS
SELECT count(*) AS changed FROM cl_next JOIN cl_labels USING (cluster) WHERE cl_next.label <> cl_labels.label;

CREATE OR REPLACE TEMP TABLE cl_labels AS SELECT * FROM cl_next;
