-- Segment: average_order_value_by_segment
-- Average check per RFM segment (the rfm segment's named segments).
-- Grain: one row per RFM segment that has customers.
-- Parameters:
--   observation_end  DATE       NULL      The last day counted (UTC), rfm's too; default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: segment, customers, purchases, value, average_order_value (value / purchases).
-- Example: etl segment run average_order_value_by_segment --param observation_end=2024-12-31

WITH rfm_customers AS (  -- observation_end NULL: rfm's default, the store's last purchase day
    SELECT customer_id, frequency AS purchases, monetary AS value, segment
    FROM rfm($observation_end::DATE, statuses := $statuses::VARCHAR[])
)

SELECT
    segment,
    count(*) AS customers,
    sum(purchases)::BIGINT AS purchases,
    sum(value) AS value,
    sum(value) / sum(purchases) AS average_order_value
FROM rfm_customers
GROUP BY segment
ORDER BY segment
