-- Segment: purchases
-- Purchases: the orders the customer segments count, with their value. The other segments
-- read it (as the table macro purchases), so that a purchase means the same everywhere.
-- Grain: one row per purchase (an order) on or before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day counted (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: order_id, customer_id, day (UTC), created_at, value (the total of the order's line
--   items whose status is in statuses). An order without such a line item is no purchase.
-- It is purchase_facts with the customer's id (see there: it reads order_facts; observation_end NULL is every
-- purchase, up to the store's last purchase day).
-- Example: etl segment run purchases --param observation_end=2024-12-31 --out purchases.parquet

WITH facts AS (
    SELECT * FROM purchase_facts($observation_end::DATE, statuses := $statuses::VARCHAR[])
),

customer_keys AS (
    SELECT customer_id, customer_key FROM main.customer_keys
)

SELECT
    facts.order_id,
    customer_keys.customer_id,
    facts.day,
    facts.created_at,
    facts.value
FROM facts
LEFT JOIN customer_keys USING (customer_key)
