-- Bring the derived tables customer_keys and order_facts up to date with orders and line_items.
-- Grain: one statement per table. Runs inside an import's transaction after entities/orders/apply.sql
-- (for the orders it stored), and when a write connection finds them out of date (store_meta
-- order_facts_of differs: orders or line items were changed outside an import), for all orders.
-- Parameters: $import_id: the import whose orders (and their line items) to bring in, or NULL
-- for every order. An import stores an order and all its line items together, so an order it
-- stored has exactly its line items with that last_import_id.

DELETE FROM order_facts
WHERE $import_id IS NULL
    OR order_id IN (SELECT order_id FROM orders WHERE last_import_id = $import_id);

INSERT INTO customer_keys
WITH stored_customers AS (
    SELECT DISTINCT customer_id
    FROM orders
    WHERE ($import_id IS NULL OR last_import_id = $import_id) AND customer_id IS NOT NULL
),

new_customers AS (
    SELECT customer_id FROM stored_customers
    ANTI JOIN customer_keys USING (customer_id)
)

SELECT
    customer_id,
    (SELECT coalesce(max(customer_key), 0) FROM customer_keys) + row_number() OVER (ORDER BY customer_id)
FROM new_customers;

INSERT INTO order_facts
WITH stored_orders AS (
    SELECT order_id, customer_id, created_at
    FROM orders
    WHERE $import_id IS NULL OR last_import_id = $import_id
),

stored_lines AS (
    SELECT order_id, status, total
    FROM line_items
    WHERE $import_id IS NULL OR last_import_id = $import_id
),

per_order AS (
    SELECT
        order_id,
        count(*) FILTER (WHERE status = 'placed') AS placed_lines,
        sum(total) FILTER (WHERE status = 'placed') AS placed_value,
        count(*) FILTER (WHERE status = 'paid') AS paid_lines,
        sum(total) FILTER (WHERE status = 'paid') AS paid_value,
        count(*) FILTER (WHERE status = 'fulfilled') AS fulfilled_lines,
        sum(total) FILTER (WHERE status = 'fulfilled') AS fulfilled_value,
        count(*) FILTER (WHERE status = 'refunded') AS refunded_lines,
        sum(total) FILTER (WHERE status = 'refunded') AS refunded_value,
        count(*) FILTER (WHERE status = 'cancelled') AS cancelled_lines,
        sum(total) FILTER (WHERE status = 'cancelled') AS cancelled_value
    FROM stored_lines
    GROUP BY order_id
)

SELECT
    stored_orders.order_id,
    customer_keys.customer_key,
    utc_day(stored_orders.created_at) AS day,
    stored_orders.created_at,
    per_order.placed_lines,
    per_order.placed_value,
    per_order.paid_lines,
    per_order.paid_value,
    per_order.fulfilled_lines,
    per_order.fulfilled_value,
    per_order.refunded_lines,
    per_order.refunded_value,
    per_order.cancelled_lines,
    per_order.cancelled_value
FROM stored_orders
JOIN per_order USING (order_id)
LEFT JOIN customer_keys USING (customer_id);

DELETE FROM store_meta WHERE key = 'order_facts_of';

INSERT INTO store_meta SELECT 'order_facts_of', order_facts_of();
