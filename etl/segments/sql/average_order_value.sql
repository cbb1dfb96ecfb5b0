-- Segment: average_order_value
-- Average check: each customer's purchases and their average value (per RFM segment: the
-- segment average_order_value_by_segment).
-- Grain: one row per customer with at least one purchase in the period.
-- Parameters:
--   observation_end  DATE       NULL      The last day counted (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, purchases (orders), value, average_order_value (value / purchases).
-- Example: etl segment run average_order_value --param observation_end=2024-12-31

WITH bought AS (  -- observation_end NULL: every purchase, up to the store's last purchase day
    SELECT customer_id, day, value
    FROM purchases($observation_end::DATE, statuses := $statuses::VARCHAR[])
)

SELECT
    bought.customer_id,
    count(*) AS purchases,
    sum(bought.value) AS value,
    sum(bought.value) / count(*) AS average_order_value
FROM bought
GROUP BY bought.customer_id
ORDER BY bought.customer_id
