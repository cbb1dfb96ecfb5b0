-- Segment: ltv
-- Historic lifetime value: what each customer has spent so far, and at what pace.
-- Grain: one row per customer with at least one purchase on or before observation_end.
-- Parameters:
--   observation_end  DATE       required  The last day counted (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, first_purchase_day, last_purchase_day, purchases (orders), value (the
--   lifetime value: the sum of purchase values), tenure_days (first purchase to observation_end),
--   value_per_year (value / max(tenure_days, 1) * 365.25), refunded (value of refunded line items).
-- For predicted lifetime value, fit BG/NBD and Gamma-Gamma models on customer_summary.
-- Example: etl segment run ltv --param observation_end=2024-12-31

WITH parameters AS (
    SELECT $observation_end::DATE AS observation_end,
        $statuses::VARCHAR[] AS statuses
),

orders AS (
    SELECT order_id, customer_id, utc_day(created_at) AS day
    FROM main.orders
    WHERE utc_day(created_at) <= (SELECT parameters.observation_end FROM parameters)
),

line_items AS (
    SELECT order_id, status, total FROM main.line_items
),

order_values AS (
    SELECT
        order_id,
        sum(total) FILTER (WHERE list_contains((SELECT parameters.statuses FROM parameters), status)) AS value,
        count(*) FILTER (WHERE list_contains((SELECT parameters.statuses FROM parameters), status)) AS purchase_lines,
        coalesce(sum(total) FILTER (WHERE status = 'refunded'), 0) AS refunded
    FROM line_items
    GROUP BY order_id
),

per_customer AS (
    SELECT
        orders.customer_id,
        min(orders.day) FILTER (WHERE order_values.purchase_lines > 0) AS first_purchase_day,
        max(orders.day) FILTER (WHERE order_values.purchase_lines > 0) AS last_purchase_day,
        count(*) FILTER (WHERE order_values.purchase_lines > 0) AS purchases,
        coalesce(sum(order_values.value), 0) AS value,
        sum(order_values.refunded) AS refunded
    FROM orders
    JOIN order_values USING (order_id)
    GROUP BY orders.customer_id
)

SELECT
    customer_id,
    first_purchase_day,
    last_purchase_day,
    purchases,
    value,
    parameters.observation_end - first_purchase_day AS tenure_days,
    value / greatest(parameters.observation_end - first_purchase_day, 1) * 365.25 AS value_per_year,
    refunded
FROM per_customer
CROSS JOIN parameters
WHERE purchases > 0
ORDER BY customer_id
