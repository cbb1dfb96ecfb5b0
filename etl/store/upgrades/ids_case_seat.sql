-- After store/upgrades/ids_case.sql and etl.entities.identity.graph: a customer left without ids (its only id was dropped into a keeper)
-- is merged into the keeper's, its attributes where the keeper has none of that name; then every order and event
-- sits on the customer of the id it names (user_id_type, user_id), an order's events on the order's.
-- Grain in: upg_dropped (node, customer_id, keeper), identities, customers, orders, events.
-- Grain out: customers, customer_attribute_times, customer_merges, orders.customer_id, events.customer_id updated.
-- Parameters: $import_id (the last import: the merges are recorded under it).

CREATE OR REPLACE TEMP TABLE upg_merges AS
SELECT DISTINCT d.customer_id AS merged_id, k.customer_id AS into_id
FROM upg_dropped AS d
JOIN identities AS k ON k.node = d.keeper
WHERE d.customer_id <> k.customer_id
    AND NOT EXISTS (SELECT 1 FROM identities AS i WHERE i.customer_id = d.customer_id);

INSERT INTO customer_merges SELECT $import_id, merged_id, into_id FROM upg_merges;

UPDATE customers SET attributes = merged.attributes, record_hash = NULL
FROM (
    SELECT m.into_id, json_merge_patch(
        list_reduce(list(c.attributes ORDER BY c.customer_id DESC), lambda a, b: json_merge_patch(a, b)),
        any_value(target.attributes)
    ) AS attributes
    FROM upg_merges AS m
    JOIN customers AS c ON c.customer_id = m.merged_id
    JOIN customers AS target ON target.customer_id = m.into_id
    GROUP BY m.into_id
) AS merged
WHERE customers.customer_id = merged.into_id;

INSERT INTO customer_attribute_times
SELECT m.into_id, t.name, max(t.updated_at)
FROM customer_attribute_times AS t
JOIN upg_merges AS m ON m.merged_id = t.customer_id
WHERE NOT EXISTS (SELECT 1 FROM customer_attribute_times AS k WHERE k.customer_id = m.into_id AND k.name = t.name)
GROUP BY ALL;

DELETE FROM customer_attribute_times WHERE customer_id IN (SELECT merged_id FROM upg_merges);

DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM upg_merges);

UPDATE orders SET customer_id = i.customer_id
FROM identities AS i
WHERE i.id_type = orders.user_id_type AND i.business_unit = '' AND i.id_value = orders.user_id
    AND orders.customer_id IS DISTINCT FROM i.customer_id;

UPDATE events SET customer_id = o.customer_id
FROM orders AS o
WHERE events.order_id = o.order_id AND events.customer_id IS DISTINCT FROM o.customer_id;

UPDATE events SET customer_id = i.customer_id
FROM identities AS i
WHERE events.order_id IS NULL AND i.id_type = events.user_id_type AND i.business_unit = ''
    AND i.id_value = events.user_id AND events.customer_id IS DISTINCT FROM i.customer_id;
