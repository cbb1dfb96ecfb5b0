-- The people of the region after this import: each cluster that is one person is one component, and in the
-- others each propagated label is one. Each customer the store had lives on in the component that holds its
-- external id, else most of its ids (the smallest component on a tie); a component keeps the smallest customer
-- living on in it (a new one when none does), and the others living on in it are merged into it, their
-- attributes with them where the kept one has none of that name. An id in another component than its
-- customer's home moves there, without a merge.
-- Grain in: rg_nodes, rg_split, id_nodes (final labels), identities, customers.
-- Grain out: id_components (one per id of the region, with its component), component_customers (one per
-- component, with its customer; the new ones also listed in stg_new_customers for the entity to add, with its
-- attributes); stg_merges (merged_id, into_id), one per customer merged into another: merge.sql merges them,
-- then place_ids.sql moves the ids.
-- Parameters: none.

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
