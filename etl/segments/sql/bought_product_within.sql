-- Segment: bought_product_within
-- Contacts who bought a given product, or any product of a category, within N days from a date
-- ("contacts who bought a particular item within a week").
-- Grain: one row per customer with at least one such purchase.
-- Parameters:
--   start             DATE       NULL  The first day (UTC); default: the window ending on the store's last purchase day (UTC).
--   days              INTEGER    7     The window's length: days start .. start + days - 1.
--   product           VARCHAR    NULL  The product (line_items.product_id); give it or product_category.
--   product_category  VARCHAR    NULL  A category: the line's category, or one level of its categories (the
--                                      catalogue's, where the order import gave neither: order_lines_enriched).
--   statuses          VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- One of: product, product_category
-- (Parameters are not named like columns: in the DuckDB macro a parameter would shadow the column.)
-- Columns: customer_id, user_id_type, user_id (to reach the contact), orders (with a matching
--   line item in the window), quantity and value of the matching line items, first_bought_at,
--   last_bought_at.
-- Example: etl segment run bought_product_within --param start=2024-11-01 --param product=p125zc; without start,
--   the last 7 days up to the store's last purchase day: etl segment run bought_product_within --param product=p125zc

WITH parameters AS (
    SELECT coalesce($start::DATE, last_purchase_day($statuses::VARCHAR[]) - $days::INTEGER + 1) AS start,
        $days::INTEGER AS days,
        $product::VARCHAR AS product,
        $product_category::VARCHAR AS product_category,
        $statuses::VARCHAR[] AS statuses
),

orders AS (
    SELECT order_id, customer_id, user_id_type, user_id, created_at FROM main.orders
    WHERE customer_id IS NOT NULL  -- not the orders without a buyer
),

line_items AS (
    SELECT order_id, product_id, category, categories, status, quantity, total FROM main.order_lines_enriched  -- with the catalogue's
),

matching_lines AS (
    SELECT line_items.order_id, line_items.quantity, line_items.total
    FROM line_items
    CROSS JOIN parameters
    WHERE list_contains(parameters.statuses, line_items.status)
      AND (
        line_items.product_id = parameters.product
        OR line_items.category = parameters.product_category
        OR list_contains(line_items.categories, parameters.product_category)
      )
),

purchases AS (
    SELECT orders.*, matching_lines.quantity, matching_lines.total
    FROM orders
    JOIN matching_lines USING (order_id)
    CROSS JOIN parameters
    WHERE utc_day(orders.created_at) >= parameters.start
      AND utc_day(orders.created_at) < parameters.start + parameters.days
)

SELECT
    customer_id,
    any_value(user_id_type) AS user_id_type,
    any_value(user_id) AS user_id,
    count(DISTINCT order_id) AS orders,
    sum(quantity) AS quantity,
    sum(total) AS value,
    min(created_at) AS first_bought_at,
    max(created_at) AS last_bought_at
FROM purchases
GROUP BY customer_id
ORDER BY customer_id
