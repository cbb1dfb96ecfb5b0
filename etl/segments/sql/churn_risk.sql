-- Segment: churn_risk
-- Customers who bought before but not in the last N days up to observation_end.
-- Grain: one row per customer whose last purchase day is more than `days` days before observation_end.
-- Parameters:
--   observation_end  DATE       required  The last day observed (UTC); later orders do not count.
--   days             INTEGER    90        Days without a purchase that make a customer at risk.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, last_purchase_day, days_since_last_purchase, purchases (orders), value.
-- Example: etl segment run churn_risk --param observation_end=2024-12-31 --param days=180

WITH bought AS (
    SELECT customer_id, day, value
    FROM purchases($observation_end::DATE, statuses := $statuses::VARCHAR[])
),

per_customer AS (
    SELECT customer_id, max(day) AS last_purchase_day, count(*) AS purchases, sum(value) AS value
    FROM bought
    GROUP BY customer_id
)

SELECT
    customer_id,
    last_purchase_day,
    $observation_end::DATE - last_purchase_day AS days_since_last_purchase,
    purchases,
    value
FROM per_customer
WHERE $observation_end::DATE - last_purchase_day > $days::INTEGER
ORDER BY customer_id
