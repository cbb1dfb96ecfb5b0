-- The links this import's records add to the graph.
-- Grain in: stg_record_ids (entities/identity/nodes.sql), identity_links.
-- Grain out: stg_new_links, the links identity_links did not have (added to it): a
-- record links its ids that are not external ids to the smallest of them (by type, business unit, value: the
-- same whatever the import order), and each of those to each of its external ids; an email's own sha256 is
-- linked to the email alone.
-- Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_new_links AS
WITH hashes AS (  -- an email's own sha256 in its record (entities/identity/email_hashes.sql): linked to the email alone,
    -- so that a record's other ids keep their one link each (no hub to find among a million records)
    SELECT e.record, e.node AS email_node, h.node AS hash_node
    FROM stg_record_ids AS e
    JOIN stg_record_ids AS h
      ON h.record = e.record AND h.id_type = 'email_sha256' AND h.business_unit = e.business_unit
     AND h.id_value = sha256(e.id_value)
    WHERE e.id_type = 'email'
),
record_ids AS (
    SELECT r.*
    FROM stg_record_ids AS r
    ANTI JOIN hashes AS h ON h.record = r.record AND h.hash_node = r.node
),
records AS (  -- of more than one id: how many are external ids and how many not
    SELECT record, count(*) FILTER (NOT external) AS others, count(*) FILTER (external) AS externals,
           any_value(node) FILTER (external) AS the_external  -- when it has one: most records
    FROM record_ids
    GROUP BY record
    HAVING count(*) > 1
),
hubs AS (  -- the smallest of a record's other ids, for the few with several
    SELECT r.record, arg_min(r.node, (r.id_type, r.business_unit, r.id_value)) AS hub
    FROM record_ids AS r
    SEMI JOIN records AS p ON p.record = r.record AND p.others > 1
    WHERE NOT r.external
    GROUP BY r.record
),
others AS (
    SELECT r.record, r.node, h.hub, p.externals, p.the_external
    FROM record_ids AS r
    JOIN records AS p USING (record)
    LEFT JOIN hubs AS h USING (record)
    WHERE NOT r.external
),
links AS (
    SELECT hub AS a, node AS b, false AS external FROM others WHERE node <> hub
    UNION
    SELECT node, the_external, true FROM others WHERE externals = 1
    UNION
    SELECT o.node, x.node, true
    FROM others AS o
    JOIN record_ids AS x ON x.record = o.record AND x.external
    WHERE o.externals > 1
    UNION
    SELECT email_node, hash_node, false FROM hashes
)
SELECT links.*
FROM links
ANTI JOIN identity_links AS l USING (a, b);

INSERT INTO identity_links SELECT a, b, external, $import_id FROM stg_new_links;
