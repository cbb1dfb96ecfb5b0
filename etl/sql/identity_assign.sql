-- The people after propagation: each label is one customer. Each customer the store had lives on in the
-- component holding its external id, else most of its ids; a component keeps the smallest customer living on in it (a new id
-- when none does), and merges the others into it, their attributes with them where the kept customer has
-- none of that name. An id in another component than its customer's home moves there, without a merge.
-- Grain in: id_nodes (one per id, with its final label), identities and customers of the store.
-- Grain out: identities and customers updated; customer_merges gains this import's merges (stg_merges).
-- Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE id_components AS
WITH labelled AS (
    SELECT n.node, n.id_type, n.business_unit, n.id_value, n.label AS component, i.customer_id AS old_customer
    FROM id_nodes AS n
    LEFT JOIN identities AS i USING (id_type, business_unit, id_value)
)
SELECT * FROM labelled;

-- each customer the store had lives on in the component that holds its external id, else most of its ids
-- (the smallest label on a tie); a component keeps the smallest customer living on in it, and gets a new id when none does
CREATE OR REPLACE TEMP TABLE customer_homes AS
WITH held AS (
    SELECT old_customer, component, count(*) FILTER (id_type = 'external_id') AS external_ids, count(*) AS ids
    FROM id_components
    WHERE old_customer IS NOT NULL
    GROUP BY old_customer, component
)
SELECT old_customer, arg_min(component, (-external_ids, -ids, component)) AS component
FROM held
GROUP BY old_customer;

CREATE OR REPLACE TEMP TABLE component_customers AS
SELECT c.component, min(h.old_customer) AS customer_id
FROM (SELECT DISTINCT component FROM id_components) AS c
LEFT JOIN customer_homes AS h USING (component)
GROUP BY c.component;

UPDATE component_customers SET customer_id = nextval('customer_ids') WHERE customer_id IS NULL;

-- a customer living on in a component that another keeps is merged into that one
CREATE OR REPLACE TEMP TABLE stg_merges AS
SELECT h.old_customer AS merged_id, cc.customer_id AS into_id
FROM customer_homes AS h
JOIN component_customers AS cc USING (component)
WHERE h.old_customer <> cc.customer_id;

INSERT INTO customer_merges SELECT $import_id, merged_id, into_id FROM stg_merges;

-- the merged customers' attributes go to the kept one where it has none of that name
UPDATE customers SET attributes = merged.attributes, last_import_id = $import_id
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

DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM stg_merges);

INSERT INTO customers
SELECT cc.customer_id, '{}'::JSON, $import_id, $import_id
FROM component_customers AS cc
ANTI JOIN customers AS c ON c.customer_id = cc.customer_id;

UPDATE identities SET customer_id = cc.customer_id
FROM id_components AS c
JOIN component_customers AS cc USING (component)
WHERE identities.id_type = c.id_type AND identities.business_unit = c.business_unit
  AND identities.id_value = c.id_value AND identities.customer_id <> cc.customer_id;

INSERT INTO identities
SELECT c.id_type, c.business_unit, c.id_value, cc.customer_id, $import_id
FROM id_components AS c
JOIN component_customers AS cc USING (component)
WHERE c.old_customer IS NULL;
