-- The links this import's records add to the graph.
-- Grain in: stg_record_ids (identity_nodes.sql), identity_links.
-- Grain out: stg_new_links, the links identity_links did not have (added to it): a
-- record links its ids that are not external ids to the smallest of them (by type, business unit, value: the
-- same whatever the import order), and each of those to each of its external ids.
-- Parameters: $import_id.

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
