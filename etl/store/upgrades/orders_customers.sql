-- Upgrade a store written before orders resolved their buyers through the identity graph, step 2 of 2: orders,
-- events and customer_keys hold customers.customer_id instead of 'user_id_type:user_id', and the users table
-- gives way to the users view (store/users_view.sql). order_facts is then rebuilt (entities/orders/facts.sql).
-- Grain: one statement per table, in the upgrade's transaction. Parameters: none.

ALTER TABLE orders ALTER customer_id SET DATA TYPE BIGINT USING NULL;

UPDATE orders SET customer_id = i.customer_id
FROM identities AS i
WHERE i.id_type = orders.user_id_type AND i.business_unit = '' AND i.id_value = orders.user_id;

ALTER TABLE events ALTER customer_id SET DATA TYPE BIGINT USING NULL;

UPDATE events SET customer_id = o.customer_id
FROM orders AS o
WHERE events.order_id = o.order_id;

DELETE FROM customer_keys;

ALTER TABLE customer_keys ALTER customer_id SET DATA TYPE BIGINT USING NULL;

DROP TABLE users;

DELETE FROM store_meta WHERE key = 'content_hash_version';
