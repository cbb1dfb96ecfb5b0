-- What names a person follows its ids: stored orders (and their events and order facts) whose buyer's id went
-- to another customer in this import (a merge, or an id claimed by a smaller external id) move with it.
-- Grain in: stg_node_customers (entities/identity/place_ids.sql), identities, orders, events, customer_keys.
-- Grain out: orders.customer_id, events.customer_id (an order's by its order, the others by their user_id), order_facts.customer_key updated. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_moved_orders AS
WITH moved AS (
    SELECT i.id_type, i.id_value, n.customer_id
    FROM stg_node_customers AS n
    JOIN identities AS i USING (node)
    WHERE n.old_customer <> n.customer_id AND i.business_unit = ''
)
SELECT o.order_id, m.customer_id
FROM orders AS o
JOIN moved AS m ON m.id_type = o.user_id_type AND m.id_value = o.user_id;

UPDATE orders SET customer_id = m.customer_id
FROM stg_moved_orders AS m
WHERE orders.order_id = m.order_id;

UPDATE events SET customer_id = m.customer_id
FROM stg_moved_orders AS m
WHERE events.order_id = m.order_id;

-- other events by the id they were resolved by (events.user_id_type, user_id)
UPDATE events SET customer_id = m.customer_id
FROM (
    SELECT i.id_type, i.id_value, n.customer_id
    FROM stg_node_customers AS n
    JOIN identities AS i USING (node)
    WHERE n.old_customer <> n.customer_id AND i.business_unit = ''
) AS m
WHERE events.order_id IS NULL AND events.user_id_type = m.id_type AND events.user_id = m.id_value;

INSERT INTO customer_keys
SELECT customer_id, (SELECT coalesce(max(customer_key), 0) FROM customer_keys) + row_number() OVER (ORDER BY customer_id)
FROM (SELECT DISTINCT customer_id FROM stg_moved_orders) AS moved
ANTI JOIN customer_keys USING (customer_id);

UPDATE order_facts SET customer_key = k.customer_key
FROM stg_moved_orders AS m
JOIN customer_keys AS k USING (customer_id)
WHERE order_facts.order_id = m.order_id;
