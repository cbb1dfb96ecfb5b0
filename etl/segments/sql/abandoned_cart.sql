-- Segment: abandoned_cart
-- Contacts whose last cart still held products and was followed by no order within H hours.
-- Grain: one row per customer whose last cart in the window holds products and was abandoned.
-- Parameters:
--   hours       INTEGER  24             How long after the cart an order counts as its purchase.
--   cart_event  VARCHAR  'cartUpdated'  The event type of a cart (events.event_type).
--   start       DATE     NULL           Carts from this day on (UTC); none: every cart.
--   days        INTEGER  NULL           The window's length in days from start; none: to the last cart.
-- A cart is abandoned when the contact placed no order (orders.created_at) in the H hours after it, and H
-- hours have passed (a cart of the last H hours may still be bought). Only the contact's last cart event counts
-- (its cart as it was left): one that emptied the cart (no products) leaves nothing abandoned, and a contact
-- who bought after an older cart and then left a new one is in the segment.
-- Columns: customer_id, user_id_type, user_id (to reach the contact), cart_at, items, quantity, value (of the
--   items whose price is given), currency, next_order_at (the first order after the cart, null when none).
-- Example: etl segment run abandoned_cart --param hours=48

WITH parameters AS (
    SELECT $hours::INTEGER AS hours,
        $cart_event::VARCHAR AS cart_event,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS NOT MATERIALIZED (  -- read where used: materialising 50M events cost more than scanning twice
    SELECT event_id, customer_id, event_type, user_id_type, user_id, occurred_at FROM main.events
    WHERE customer_id IS NOT NULL
),

event_items AS NOT MATERIALIZED (
    SELECT event_id, quantity, price, currency FROM main.event_items
),

orders AS (
    SELECT customer_id, created_at FROM main.orders WHERE customer_id IS NOT NULL
),

last_carts AS (  -- each contact's last cart event in the window (the later event of two at one time)
    SELECT
        events.customer_id,
        arg_max(events.event_id, (events.occurred_at, events.event_id)) AS event_id,
        max(events.occurred_at) AS cart_at
    FROM events
    CROSS JOIN parameters
    WHERE events.event_type = parameters.cart_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
    GROUP BY events.customer_id
),

held AS (  -- what those carts hold: none, and the cart was emptied
    SELECT
        last_carts.customer_id,
        any_value(last_carts.event_id) AS event_id,
        any_value(last_carts.cart_at) AS cart_at,
        count(*) AS items,
        sum(coalesce(event_items.quantity, 1)) AS quantity,
        sum(coalesce(event_items.quantity, 1) * event_items.price) AS value,
        any_value(event_items.currency) AS currency
    FROM last_carts
    JOIN event_items USING (event_id)
    GROUP BY last_carts.customer_id
),

next_orders AS (  -- the first order at or after the cart
    SELECT held.customer_id, min(orders.created_at) AS next_order_at
    FROM held
    JOIN orders ON orders.customer_id = held.customer_id AND orders.created_at >= held.cart_at
    GROUP BY held.customer_id
)

SELECT
    held.customer_id, events.user_id_type, events.user_id, held.cart_at, held.items, held.quantity, held.value,
    held.currency, next_orders.next_order_at
FROM held
JOIN events USING (event_id)
LEFT JOIN next_orders ON next_orders.customer_id = held.customer_id
CROSS JOIN parameters
WHERE (next_orders.next_order_at IS NULL OR next_orders.next_order_at > held.cart_at + to_hours(parameters.hours))
  AND held.cart_at + to_hours(parameters.hours) <= now()
ORDER BY held.customer_id
