-- Segment: ltv
-- Historic lifetime value: what each customer has spent so far, and at what pace.
-- Grain: one row per customer with at least one purchase on or before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day counted (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id, first_purchase_day, last_purchase_day, purchases (orders), value (the
--   lifetime value: the sum of purchase values), tenure_days (first purchase to observation_end),
--   value_per_year (value / max(tenure_days, 1) * 365.25), refunded (value of refunded line items).
-- For predicted lifetime value, fit BG/NBD and Gamma-Gamma models on customer_summary.
-- Example: etl segment run ltv --param observation_end=2024-12-31

WITH parameters AS (
    SELECT coalesce($observation_end::DATE, last_purchase_day($statuses::VARCHAR[])) AS observation_end
),

bought AS (
    SELECT customer_key, day, value
    FROM purchase_facts((SELECT parameters.observation_end FROM parameters), statuses := $statuses::VARCHAR[])
),

order_facts AS (
    SELECT customer_key, day, refunded_value FROM main.order_facts
    WHERE customer_key IS NOT NULL  -- not the orders without a buyer
),

customer_keys AS (
    SELECT customer_id, customer_key FROM main.customer_keys
),

per_customer AS (
    SELECT
        customer_key,
        min(day) AS first_purchase_day,
        max(day) AS last_purchase_day,
        count(*) AS purchases,
        coalesce(sum(value), 0) AS value
    FROM bought
    GROUP BY customer_key
),

refunds AS (
    -- refunded lines of any of the customer's orders up to observation_end, purchases or not
    SELECT customer_key, sum(refunded_value) AS refunded
    FROM order_facts
    WHERE day <= (SELECT parameters.observation_end FROM parameters)
    GROUP BY customer_key
)

SELECT
    customer_keys.customer_id,
    per_customer.first_purchase_day,
    per_customer.last_purchase_day,
    per_customer.purchases,
    per_customer.value,
    parameters.observation_end - per_customer.first_purchase_day AS tenure_days,
    per_customer.value / greatest(parameters.observation_end - per_customer.first_purchase_day, 1) * 365.25
        AS value_per_year,
    coalesce(refunds.refunded, 0) AS refunded
FROM per_customer
CROSS JOIN parameters
LEFT JOIN refunds USING (customer_key)
LEFT JOIN customer_keys USING (customer_key)
ORDER BY customer_keys.customer_id
