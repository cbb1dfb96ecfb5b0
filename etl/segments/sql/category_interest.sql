-- Segment: category_interest
-- How much of each customer's buying goes to each category: interest in a type of goods.
-- Grain: one row per (customer, top-level category) with a purchase in the period.
-- Parameters:
--   since            DATE       NULL      The first day counted (UTC); default: none, every purchase up to observation_end.
--   observation_end  DATE       NULL      The last day counted (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- The lines' categories are the catalogue's where the order import gave none (order_lines_enriched).
-- Columns: customer_id, category (the first level of categories, else category, else
--   'unknown'), orders, quantity, value, share (of the customer's value in the period, 0-1).
-- Example: etl segment run category_interest --param since=2024-01-01 --param observation_end=2024-12-31
--   (without them: the customers' whole history, up to the store's last purchase day)

WITH parameters AS (
    SELECT $since::DATE AS since,
        coalesce($observation_end::DATE, last_purchase_day($statuses::VARCHAR[])) AS observation_end,
        $statuses::VARCHAR[] AS statuses
),

orders AS (
    SELECT order_id, customer_id, created_at FROM main.orders
    WHERE customer_id IS NOT NULL  -- not the orders without a buyer
),

line_items AS (
    SELECT order_id, status, quantity, total, category, categories FROM main.order_lines_enriched  -- with the catalogue's
),

purchased_lines AS (
    SELECT
        orders.customer_id,
        orders.order_id,
        coalesce(line_items.categories[1], line_items.category, 'unknown') AS category,
        line_items.quantity,
        line_items.total
    FROM line_items
    JOIN orders USING (order_id)
    CROSS JOIN parameters
    WHERE list_contains(parameters.statuses, line_items.status)
      AND (parameters.since IS NULL OR utc_day(orders.created_at) >= parameters.since)
      AND utc_day(orders.created_at) <= parameters.observation_end
),

per_category AS (
    SELECT customer_id, category, count(DISTINCT order_id) AS orders, sum(quantity) AS quantity, sum(total) AS value
    FROM purchased_lines
    GROUP BY customer_id, category
)

SELECT
    customer_id,
    category,
    orders,
    quantity,
    value,
    CASE WHEN sum(value) OVER (PARTITION BY customer_id) = 0 THEN 0.0
        ELSE value / sum(value) OVER (PARTITION BY customer_id) END AS share
FROM per_category
ORDER BY customer_id, category
