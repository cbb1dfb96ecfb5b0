-- The graph's nodes and edges, from all the evidence, before the labels are propagated.
-- Grain in: identity_evidence (identity_evidence.sql has added this import's).
-- Grain out: id_nodes, one per distinct id of all evidence, with its label: fixed for an
-- external id ('0' || itself) and for an id seen with an external id ('0' || the smallest such external
-- id: at most one external id per customer), else '1' || itself, to be lowered by identity_propagate;
-- id_edges, both directions between the ids (not external) of one evidence set and its smallest one.
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE id_nodes AS
WITH evidence AS (
    SELECT evidence, id_type, business_unit, id_value,
           id_type || chr(31) || business_unit || chr(31) || id_value AS node
    FROM identity_evidence
),
owners AS (
    SELECT e.node, min(x.node) AS owner
    FROM evidence AS e
    JOIN evidence AS x ON x.evidence = e.evidence AND x.id_type = 'external_id'
    GROUP BY e.node
),
nodes AS (
    SELECT DISTINCT node, id_type, business_unit, id_value FROM evidence
)
SELECT
    nodes.node, nodes.id_type, nodes.business_unit, nodes.id_value,
    owners.owner IS NOT NULL AS fixed,
    CASE WHEN nodes.id_type = 'external_id' THEN '0' || nodes.node
         WHEN owners.owner IS NOT NULL THEN '0' || owners.owner
         ELSE '1' || nodes.node END AS label
FROM nodes
LEFT JOIN owners USING (node);

CREATE OR REPLACE TEMP TABLE id_edges AS
WITH evidence AS (
    SELECT evidence, id_type || chr(31) || business_unit || chr(31) || id_value AS node
    FROM identity_evidence
    WHERE id_type <> 'external_id'
),
hubs AS (
    SELECT evidence, min(node) AS hub FROM evidence GROUP BY evidence
)
SELECT DISTINCT e.node AS a, h.hub AS b FROM evidence AS e JOIN hubs AS h USING (evidence) WHERE e.node <> h.hub
UNION
SELECT DISTINCT h.hub AS a, e.node AS b FROM evidence AS e JOIN hubs AS h USING (evidence) WHERE e.node <> h.hub;
