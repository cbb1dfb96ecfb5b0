-- Segment: purchases
-- Purchases: the orders the customer segments count, with their value. The other segments
-- read it (as the table macro purchases), so that a purchase means the same everywhere.
-- Grain: one row per purchase (an order) on or before observation_end.
-- Parameters:
--   observation_end  DATE       required  The last day counted (UTC); later orders do not count.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: order_id, customer_id, day (UTC), created_at, value (the total of the order's line
--   items whose status is in statuses). An order without such a line item is no purchase.
-- Example: etl segment run purchases --param observation_end=2024-12-31 --out purchases.parquet

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
)

SELECT
    orders.order_id,
    orders.customer_id,
    utc_day(orders.created_at) AS day,
    orders.created_at,
    purchase_values.value
FROM orders
JOIN purchase_values USING (order_id)
WHERE utc_day(orders.created_at) <= (SELECT parameters.observation_end FROM parameters)
