-- After the merges (store/upgrades/ids_case_merges.sql, entities/identity/merge.sql): every order and event sits
-- on the customer of the id it names (user_id_type, user_id), an order's events on the order's.
-- Grain in: identities, orders, events. Grain out: orders.customer_id, events.customer_id updated.
-- Parameters: none.

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
