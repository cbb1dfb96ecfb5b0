-- Segment: average_order_value_by_segment
-- Average check per RFM segment (the rfm segment's named segments).
-- Grain: one row per RFM segment that has customers.
-- Parameters:
--   observation_end  DATE       required  The last day counted (UTC); also the RFM reference day.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: segment, customers, purchases, value, average_order_value (value / purchases).
-- Example: etl segment run average_order_value_by_segment --param observation_end=2024-12-31

WITH parameters AS (
    SELECT $observation_end::DATE AS observation_end,
        $statuses::VARCHAR[] AS statuses
),

rfm_customers AS (
    SELECT customer_id, frequency AS purchases, monetary AS value, segment
    FROM rfm((SELECT parameters.observation_end FROM parameters), statuses := (SELECT parameters.statuses FROM parameters))
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
