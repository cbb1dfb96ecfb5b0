-- This import's ids as nodes of the graph (then entities/identity/nodes_numbered.sql when some are new, and
-- entities/identity/new_links.sql).
-- Grain in: stg_identity_links, one row per id of a record (record, id_type, business_unit, id_value;
-- values already normalised by the format); identities, identity_links.
-- Grain out: stg_record_ids, one per id of a record (node, cluster and customer_id as stored; null when
-- new); stg_new_ids, one per id the store does not know, numbered, with how many of the import's ids it is
-- (records). Parameters: none.

-- each id of a record with its node, when the store knows it: one join of the import's ids with the store's
CREATE OR REPLACE TEMP TABLE stg_record_ids AS
SELECT l.record, i.node, l.id_type, l.business_unit, l.id_value, l.id_type = 'external_id' AS external,
       i.cluster, i.customer_id
FROM stg_identity_links AS l
LEFT JOIN identities AS i USING (id_type, business_unit, id_value);

-- the ids the store does not know yet get their numbers (a re-import has none: this is then skipped)
CREATE OR REPLACE TEMP TABLE stg_new_ids AS
SELECT id_type, business_unit, id_value, nextval('identity_node_ids') AS node, records
FROM (
    SELECT id_type, business_unit, id_value, count(*) AS records
    FROM stg_record_ids
    WHERE node IS NULL
    GROUP BY ALL
);
