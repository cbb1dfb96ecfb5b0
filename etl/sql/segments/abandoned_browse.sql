-- Segment: abandoned_browse
-- Contacts who viewed a product and neither put it in a cart nor ordered it within H hours.
-- Grain: one row per customer with at least one such view in the window.
-- Parameters:
--   hours       INTEGER  24               How long after a view a cart or an order of its product counts.
--   view_event  VARCHAR  'productViewed'  The event type of a view (events.event_type; its item is the product).
--   cart_event  VARCHAR  'cartUpdated'    The event type of a cart (its items are its products).
--   start       DATE     NULL             Views from this day on (UTC); none: every view.
--   days        INTEGER  NULL             The window's length in days from start; none: to the last view.
-- A view is abandoned when no cart event of the contact holding that product, and no order line of it
-- (order_lines_enriched), came in the H hours after it, and H hours have passed.
-- Columns: customer_id, user_id_type, user_id (to reach the contact), products (the abandoned ones, sorted),
--   views (abandoned views), last_viewed_at.
-- Example: etl segment run abandoned_browse --param hours=24 --param start=2024-11-01 --param days=7

WITH parameters AS (
    SELECT $hours::INTEGER AS hours,
        $view_event::VARCHAR AS view_event,
        $cart_event::VARCHAR AS cart_event,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS (
    SELECT event_id, customer_id, event_type, user_id_type, user_id, occurred_at FROM main.events
    WHERE customer_id IS NOT NULL
),

event_items AS (
    SELECT event_id, product_id FROM main.event_items WHERE product_id IS NOT NULL
),

orders AS (
    SELECT order_id, customer_id, created_at FROM main.orders WHERE customer_id IS NOT NULL
),

line_items AS (
    SELECT order_id, product_id FROM main.line_items WHERE product_id IS NOT NULL
),

views AS (
    SELECT events.customer_id, events.user_id_type, events.user_id, event_items.product_id, events.occurred_at
    FROM events
    JOIN event_items USING (event_id)
    CROSS JOIN parameters
    WHERE events.event_type = parameters.view_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
),

follow_ups AS (  -- a cart holding the product, or an order of it
    SELECT events.customer_id, event_items.product_id, events.occurred_at AS at
    FROM events
    JOIN event_items USING (event_id)
    CROSS JOIN parameters
    WHERE events.event_type = parameters.cart_event
    UNION ALL
    SELECT orders.customer_id, line_items.product_id, orders.created_at AS at
    FROM orders
    JOIN line_items USING (order_id)
),

followed AS (  -- each view with the first follow-up at or after it
    SELECT views.*, follow_ups.at AS next_at
    FROM views
    ASOF LEFT JOIN follow_ups
        ON follow_ups.customer_id = views.customer_id
       AND follow_ups.product_id = views.product_id
       AND follow_ups.at >= views.occurred_at
)

SELECT
    customer_id,
    any_value(user_id_type) AS user_id_type,
    any_value(user_id) AS user_id,
    list_sort(list_distinct(list(product_id))) AS products,
    count(*) AS views,
    max(occurred_at) AS last_viewed_at
FROM followed
CROSS JOIN parameters
WHERE (next_at IS NULL OR next_at > occurred_at + to_hours(parameters.hours))
  AND occurred_at + to_hours(parameters.hours) <= now()
GROUP BY customer_id
ORDER BY customer_id
