-- This import's ids as nodes of the graph, and the links its records add to it.
-- Grain in: stg_identity_links, one row per id of a record (record, id_type, business_unit, id_value;
-- values already normalised by the format); identities, identity_links.
-- Grain out: stg_id_nodes, one per distinct id of the import (node: numbered here when new; cluster and
-- customer_id as stored, the node itself and null when new); stg_record_ids, one per id of a record;
-- stg_new_links, the links identity_links did not have (added to it): a record links its ids that are not
-- external ids to the smallest of them (by type, business unit, value: the same whatever the import
-- order), and each of those to each of its external ids.
-- Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_id_nodes AS
WITH ids AS (
    SELECT DISTINCT id_type, business_unit, id_value FROM stg_identity_links
),
known AS (
    SELECT ids.id_type, ids.business_unit, ids.id_value, i.node, i.cluster, i.customer_id
    FROM ids
    LEFT JOIN identities AS i USING (id_type, business_unit, id_value)
),
numbered AS (
    SELECT *, CASE WHEN node IS NULL THEN nextval('identity_node_ids') ELSE node END AS new_node
    FROM known
)
SELECT id_type, business_unit, id_value, new_node AS node, coalesce(cluster, new_node) AS cluster, customer_id,
       node IS NULL AS is_new, false AS isolated  -- isolated: set by identity_isolated.sql
FROM numbered;

CREATE OR REPLACE TEMP TABLE stg_record_ids AS
SELECT l.record, n.node, l.id_type, l.business_unit, l.id_value, l.id_type = 'external_id' AS external
FROM stg_identity_links AS l
JOIN stg_id_nodes AS n USING (id_type, business_unit, id_value);

CREATE OR REPLACE TEMP TABLE stg_new_links AS
WITH others AS (  -- ids that are not external ids, of records with more than one id
    SELECT record, node, id_type, business_unit, id_value
    FROM stg_record_ids
    WHERE NOT external AND record IN (SELECT record FROM stg_record_ids GROUP BY record HAVING count(*) > 1)
),
hubs AS (
    SELECT record, arg_min(node, (id_type, business_unit, id_value)) AS hub
    FROM others
    GROUP BY record
    HAVING count(DISTINCT node) > 1
),
links AS (
    SELECT h.hub AS a, o.node AS b, false AS external
    FROM others AS o
    JOIN hubs AS h USING (record)
    WHERE o.node <> h.hub
    UNION
    SELECT o.node AS a, x.node AS b, true AS external
    FROM others AS o
    JOIN stg_record_ids AS x ON x.record = o.record AND x.external
)
SELECT links.*
FROM links
ANTI JOIN identity_links AS l USING (a, b);

INSERT INTO identity_links SELECT a, b, external, $import_id FROM stg_new_links;
