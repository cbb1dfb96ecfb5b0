-- Segment: average_order_value
-- Average check: each customer's purchases and their average value (per RFM segment: the
-- segment average_order_value_by_segment).
-- Grain: one row per customer with at least one purchase in the period.
-- Parameters:
--   observation_end  DATE       required  The last day counted (UTC); also the RFM reference day.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, purchases (orders), value, average_order_value (value / purchases).
-- Example: etl segment run average_order_value --param observation_end=2024-12-31

WITH parameters AS (
    SELECT $observation_end::DATE AS observation_end,
        $statuses::VARCHAR[] AS statuses
),

orders AS (
    SELECT order_id, customer_id, created_at FROM main.orders
),

line_items AS (
    SELECT order_id, status, total FROM main.line_items
),

purchase_values AS (
    SELECT order_id, sum(total) AS value
    FROM line_items
    WHERE list_contains((SELECT parameters.statuses FROM parameters), status)
    GROUP BY order_id
),

purchases AS (
    SELECT orders.customer_id, purchase_values.value
    FROM orders
    JOIN purchase_values USING (order_id)
    WHERE utc_day(orders.created_at) <= (SELECT parameters.observation_end FROM parameters)
),

SELECT
    purchases.customer_id,
    count(*) AS purchases,
    sum(purchases.value) AS value,
    sum(purchases.value) / count(*) AS average_order_value
FROM purchases
GROUP BY purchases.customer_id
ORDER BY purchases.customer_id
