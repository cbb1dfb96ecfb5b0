-- Segment: churn_risk
-- Customers who bought before but not in the last N days up to observation_end.
-- Grain: one row per customer whose last purchase day is more than `days` days before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day observed (UTC); default: the store's last purchase day (UTC).
--   days             INTEGER    90        Days without a purchase that make a customer at risk.
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, last_purchase_day, days_since_last_purchase, purchases (orders), value.
-- Example: etl segment run churn_risk --param days=180 (observation_end: the store's last purchase day)

WITH parameters AS (
    SELECT coalesce($observation_end::DATE, last_purchase_day($statuses::VARCHAR[])) AS observation_end
),

bought AS (
    SELECT customer_id, day, value
    FROM purchases((SELECT parameters.observation_end FROM parameters), statuses := $statuses::VARCHAR[])
),

per_customer AS (
    SELECT customer_id, max(day) AS last_purchase_day, count(*) AS purchases, sum(value) AS value
    FROM bought
    GROUP BY customer_id
)

SELECT
    per_customer.customer_id,
    per_customer.last_purchase_day,
    parameters.observation_end - per_customer.last_purchase_day AS days_since_last_purchase,
    per_customer.purchases,
    per_customer.value
FROM per_customer
CROSS JOIN parameters
WHERE parameters.observation_end - per_customer.last_purchase_day > $days::INTEGER
ORDER BY per_customer.customer_id
