-- Segment: customer_summary
-- Each customer's purchase history in the terms of lifetimes' summary_data_from_transaction_data
-- and pymc-marketing's rfm_summary, at daily frequency (inputs of BG/NBD and Gamma-Gamma models).
-- Grain: one row per customer with at least one purchase on or before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day observed (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id; frequency = distinct purchase days - 1; recency = days from the first to
--   the last purchase day; T = days from the first purchase day to observation_end;
--   monetary_value = mean day value over the repeat purchase days (0 when frequency is 0).
-- A purchase is an order with at least one line item in `statuses`; its value is the sum of
-- those line items' totals. A day's value is the sum of that customer's purchases on the day.
-- Example: etl segment run customer_summary --param observation_end=2024-12-31

WITH parameters AS (
    SELECT coalesce($observation_end::DATE, last_purchase_day($statuses::VARCHAR[])) AS observation_end
),

bought AS (
    SELECT customer_key, day, value
    FROM purchase_facts((SELECT parameters.observation_end FROM parameters), statuses := $statuses::VARCHAR[])
),

customer_keys AS (
    SELECT customer_id, customer_key FROM main.customer_keys
),

purchase_days AS (
    SELECT customer_key, day, sum(value) AS day_value
    FROM bought
    GROUP BY customer_key, day
),

per_customer AS (
    SELECT
        customer_key,
        count(*) - 1 AS repeat_days,
        min(day) AS first_day,
        max(day) AS last_day,
        sum(day_value) - arg_min(day_value, day) AS repeat_value
    FROM purchase_days
    GROUP BY customer_key
)

SELECT
    customer_keys.customer_id,
    per_customer.repeat_days::DOUBLE AS frequency,
    (per_customer.last_day - per_customer.first_day)::DOUBLE AS recency,
    (parameters.observation_end - per_customer.first_day)::DOUBLE AS T,
    CASE
        WHEN per_customer.repeat_days = 0 THEN 0.0
        ELSE per_customer.repeat_value / per_customer.repeat_days
    END AS monetary_value
FROM per_customer
CROSS JOIN parameters
LEFT JOIN customer_keys USING (customer_key)
ORDER BY customer_keys.customer_id
