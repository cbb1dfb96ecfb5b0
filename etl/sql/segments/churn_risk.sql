-- Segment: churn_risk
-- Customers who bought before but not in the last N days up to observation_end.
-- Grain: one row per customer whose last purchase day is more than `days` days before observation_end.
-- Parameters:
--   observation_end  DATE       required  The last day observed (UTC); later orders do not count.
--   days             INTEGER    90        Days without a purchase that make a customer at risk.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, last_purchase_day, days_since_last_purchase, purchases (orders), value.
-- Example: etl segment run churn_risk --param observation_end=2024-12-31 --param days=180

WITH parameters AS (
    SELECT $observation_end::DATE AS observation_end,
        $days::INTEGER AS days,
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
    SELECT orders.customer_id, utc_day(orders.created_at) AS day, purchase_values.value
    FROM orders
    JOIN purchase_values USING (order_id)
    WHERE utc_day(orders.created_at) <= (SELECT parameters.observation_end FROM parameters)
),

per_customer AS (
    SELECT customer_id, max(day) AS last_purchase_day, count(*) AS purchases, sum(value) AS value
    FROM purchases
    GROUP BY customer_id
)

SELECT
    customer_id,
    last_purchase_day,
    parameters.observation_end - last_purchase_day AS days_since_last_purchase,
    purchases,
    value
FROM per_customer
CROSS JOIN parameters
WHERE parameters.observation_end - last_purchase_day > parameters.days
ORDER BY customer_id
