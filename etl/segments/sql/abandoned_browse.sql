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
        to_hours($hours::INTEGER) AS wait,
        $view_event::VARCHAR AS view_event,
        $cart_event::VARCHAR AS cart_event,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS NOT MATERIALIZED (  -- read where used: materialising 50M events cost more than scanning twice
    SELECT event_id, customer_id, event_type, user_id_type, user_id, occurred_at FROM main.events
    WHERE customer_id IS NOT NULL
),

event_items AS NOT MATERIALIZED (
    SELECT event_id, product_id FROM main.event_items WHERE product_id IS NOT NULL
),

orders AS (
    SELECT order_id, customer_id, created_at FROM main.orders WHERE customer_id IS NOT NULL
),

line_items AS (
    SELECT order_id, product_id FROM main.line_items WHERE product_id IS NOT NULL
),

view_events AS (
    SELECT events.event_id, events.customer_id, events.user_id_type, events.user_id, events.occurred_at
    FROM events
    CROSS JOIN parameters
    WHERE events.event_type = parameters.view_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
),

views AS (
    SELECT view_events.*, event_items.product_id
    FROM view_events
    JOIN event_items USING (event_id)
),

cart_events AS (  -- those that can follow a view of the window: from its start to H hours after its end
    SELECT events.event_id, events.customer_id, events.occurred_at
    FROM events
    CROSS JOIN parameters
    WHERE events.event_type = parameters.cart_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at + parameters.wait)
),

follow_ups AS (  -- a cart holding a product, or an order of it
    SELECT cart_events.customer_id, event_items.product_id, cart_events.occurred_at AS at
    FROM cart_events
    JOIN event_items USING (event_id)
    UNION ALL
    SELECT orders.customer_id, line_items.product_id, orders.created_at AS at
    FROM orders
    JOIN line_items USING (order_id)
    CROSS JOIN parameters
    WHERE (parameters.start_at IS NULL OR orders.created_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR orders.created_at < parameters.end_at + parameters.wait)
),

followed AS (  -- views with a follow-up of their product within H hours
    SELECT DISTINCT views.customer_id, views.product_id, views.occurred_at
    FROM views
    JOIN follow_ups ON follow_ups.customer_id = views.customer_id AND follow_ups.product_id = views.product_id
    CROSS JOIN parameters
    WHERE follow_ups.at >= views.occurred_at AND follow_ups.at <= views.occurred_at + parameters.wait
),

abandoned AS (
    SELECT views.*
    FROM views
    ANTI JOIN followed USING (customer_id, product_id, occurred_at)
    CROSS JOIN parameters
    WHERE views.occurred_at + parameters.wait <= now()
)

SELECT
    customer_id,
    any_value(user_id_type) AS user_id_type,
    any_value(user_id) AS user_id,
    list_sort(list_distinct(list(product_id))) AS products,
    count(*) AS views,
    max(occurred_at) AS last_viewed_at
FROM abandoned
GROUP BY customer_id
ORDER BY customer_id
