-- Segment: abandoned_cart
-- Contacts whose last cart (a cart event with products) was followed by no order within H hours.
-- Grain: one row per customer whose last cart with products in the window was abandoned.
-- Parameters:
--   hours       INTEGER  24             How long after the cart an order counts as its purchase.
--   cart_event  VARCHAR  'cartUpdated'  The event type of a cart (events.event_type).
--   start       DATE     NULL           Carts from this day on (UTC); none: every cart.
--   days        INTEGER  NULL           The window's length in days from start; none: to the last cart.
-- A cart is abandoned when the contact placed no order (orders.created_at) in the H hours after it, and H
-- hours have passed (a cart of the last H hours may still be bought). Only the contact's last cart counts: a
-- contact who bought after an older cart and then left a new one is in the segment.
-- Columns: customer_id, user_id_type, user_id (to reach the contact), cart_at, items, quantity, value (of the
--   items whose price is given), currency, next_order_at (the first order after the cart, null when none).
-- Example: etl segment run abandoned_cart --param hours=48

WITH parameters AS (
    SELECT $hours::INTEGER AS hours,
        $cart_event::VARCHAR AS cart_event,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS (
    SELECT event_id, customer_id, event_type, user_id_type, user_id, occurred_at FROM main.events
    WHERE customer_id IS NOT NULL
),

event_items AS (
    SELECT event_id, quantity, price, currency FROM main.event_items
),

orders AS (
    SELECT customer_id, created_at FROM main.orders WHERE customer_id IS NOT NULL
),

carts AS (  -- with products, each with what it holds
    SELECT
        events.event_id, any_value(events.customer_id) AS customer_id, any_value(events.user_id_type) AS user_id_type,
        any_value(events.user_id) AS user_id, any_value(events.occurred_at) AS cart_at, count(*) AS items,
        sum(coalesce(event_items.quantity, 1)) AS quantity,
        sum(coalesce(event_items.quantity, 1) * event_items.price) AS value, any_value(event_items.currency) AS currency
    FROM events
    JOIN event_items USING (event_id)
    CROSS JOIN parameters
    WHERE events.event_type = parameters.cart_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
    GROUP BY events.event_id
),

last_carts AS (
    SELECT * FROM carts
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY cart_at DESC, event_id DESC) = 1
),

followed AS (  -- the first order at or after the cart
    SELECT last_carts.*, orders.created_at AS next_order_at
    FROM last_carts
    ASOF LEFT JOIN orders ON orders.customer_id = last_carts.customer_id AND orders.created_at >= last_carts.cart_at
)

SELECT
    customer_id, user_id_type, user_id, cart_at, items, quantity, value, currency, next_order_at
FROM followed
CROSS JOIN parameters
WHERE (next_order_at IS NULL OR next_order_at > cart_at + to_hours(parameters.hours))
  AND cart_at + to_hours(parameters.hours) <= now()
ORDER BY customer_id
