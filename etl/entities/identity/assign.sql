-- The people of the region after this import: each cluster that is one person is one component, and in the
-- others each propagated label is one. Each customer the store had lives on in the component that holds its
-- external id, else most of its ids (the smallest component on a tie); a component keeps the smallest customer
-- living on in it (a new one when none does), and the others living on in it are merged into it, their
-- attributes with them where the kept one has none of that name. An id in another component than its
-- customer's home moves there, without a merge.
-- Grain in: rg_nodes, rg_split, id_nodes (final labels), identities, customers.
-- Grain out: identities updated and added; customers merged (the new ones are listed in stg_new_customers
-- for the entity to add, with its attributes); customer_merges gains this import's (stg_merges);
-- stg_node_customers, one per id of the region with its customer.
-- Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE id_components AS
SELECT r.node, r.old_customer, r.cluster,
       CASE WHEN s.cluster IS NULL THEN 'c' || r.cluster ELSE n.label END AS component
FROM rg_nodes AS r
LEFT JOIN rg_split AS s USING (cluster)
LEFT JOIN id_nodes AS n USING (node);

CREATE OR REPLACE TEMP TABLE customer_homes AS
WITH held AS (
    SELECT c.old_customer, c.component,
           count(*) FILTER (r.id_type = 'external_id') AS external_ids, count(*) AS ids
    FROM id_components AS c
    JOIN rg_nodes AS r USING (node)
    WHERE c.old_customer IS NOT NULL
    GROUP BY c.old_customer, c.component
)
SELECT old_customer, arg_min(component, (-external_ids, -ids, component)) AS component
FROM held
GROUP BY old_customer;

CREATE OR REPLACE TEMP TABLE component_customers AS
WITH components AS (
    SELECT c.component, min(h.old_customer) AS customer_id
    FROM (SELECT DISTINCT component FROM id_components) AS c
    LEFT JOIN customer_homes AS h USING (component)
    GROUP BY c.component
)
SELECT component, CASE WHEN customer_id IS NULL THEN nextval('customer_ids') ELSE customer_id END AS customer_id,
       customer_id IS NULL AS is_new
FROM components;

CREATE OR REPLACE TEMP TABLE stg_new_customers AS
SELECT customer_id FROM component_customers WHERE is_new
UNION ALL
SELECT customer_id FROM stg_isolated;

-- a customer living on in a component that another keeps is merged into that one
CREATE OR REPLACE TEMP TABLE stg_merges AS
SELECT h.old_customer AS merged_id, cc.customer_id AS into_id
FROM customer_homes AS h
JOIN component_customers AS cc USING (component)
WHERE h.old_customer <> cc.customer_id;

INSERT INTO customer_merges SELECT $import_id, merged_id, into_id FROM stg_merges;

-- the merged customers' attributes go to the kept one where it has none of that name
UPDATE customers SET attributes = merged.attributes, last_import_id = $import_id, record_hash = NULL
FROM (
    SELECT
        m.into_id,
        -- a later patch wins: the merged ones' from the newest to the oldest, then the kept one's own
        json_merge_patch(
            list_reduce(list(c.attributes ORDER BY c.customer_id DESC), lambda a, b: json_merge_patch(a, b)),
            any_value(target.attributes)
        ) AS attributes
    FROM stg_merges AS m
    JOIN customers AS c ON c.customer_id = m.merged_id
    JOIN customers AS target ON target.customer_id = m.into_id
    GROUP BY m.into_id
) AS merged
WHERE customers.customer_id = merged.into_id;

-- with times (customer_attribute_times, kept when a format gives updated_at), an attribute is the one set
-- latest among the merged customers and the kept one, and its time goes with it: so that the result does not
-- depend on which customer was kept, nor on the order of the imports
CREATE OR REPLACE TEMP TABLE stg_merge_times AS
WITH merging AS (
    SELECT merged_id AS customer_id, into_id FROM stg_merges
    UNION
    SELECT into_id, into_id FROM stg_merges
)
SELECT m.into_id, t.name, arg_max(t.customer_id, (t.updated_at, t.customer_id = m.into_id)) AS source_id,
       max(t.updated_at) AS updated_at
FROM customer_attribute_times AS t
JOIN merging AS m USING (customer_id)
GROUP BY m.into_id, t.name;

UPDATE customers SET attributes = json_merge_patch(customers.attributes, latest.patch)
FROM (
    SELECT
        mt.into_id,
        ('{' || string_agg(to_json(mt.name)::VARCHAR || ':' || coalesce(e.value::VARCHAR, 'null'), ',') || '}')::JSON
            AS patch
    FROM stg_merge_times AS mt
    JOIN customers AS source ON source.customer_id = mt.source_id
    LEFT JOIN LATERAL (SELECT value FROM json_each(source.attributes) WHERE key = mt.name) AS e ON true
    WHERE mt.source_id <> mt.into_id
    GROUP BY mt.into_id
) AS latest
WHERE customers.customer_id = latest.into_id;

DELETE FROM customer_attribute_times
WHERE customer_id IN (SELECT merged_id FROM stg_merges UNION SELECT into_id FROM stg_merges);

INSERT INTO customer_attribute_times SELECT into_id, name, updated_at FROM stg_merge_times;

DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM stg_merges);

CREATE OR REPLACE TEMP TABLE stg_node_customers AS
SELECT c.node, c.old_customer, c.cluster, cc.customer_id
FROM id_components AS c
JOIN component_customers AS cc USING (component)
UNION ALL
SELECT node, NULL, cluster, customer_id FROM stg_isolated_nodes;

-- a customer that loses an id forgets its record hash: the record it last applied may now resolve elsewhere
UPDATE customers SET record_hash = NULL
WHERE record_hash IS NOT NULL AND customer_id IN (
    SELECT old_customer FROM stg_node_customers WHERE old_customer IS NOT NULL AND old_customer <> customer_id
);

UPDATE identities SET customer_id = n.customer_id, cluster = n.cluster
FROM stg_node_customers AS n
WHERE identities.node = n.node AND n.old_customer IS NOT NULL
  AND (identities.customer_id <> n.customer_id OR identities.cluster <> n.cluster);

INSERT INTO identities  -- the isolated records' ids are in already (entities/identity/isolated.sql)
SELECT r.id_type, r.business_unit, r.id_value, cc.customer_id, $import_id, r.node, r.cluster
FROM rg_nodes AS r
JOIN id_components AS c USING (node)
JOIN component_customers AS cc USING (component)
WHERE r.old_customer IS NULL;
