-- Segment: rfm
-- Recency, frequency and monetary scores 1-5 (quintiles) and the named RFM segment of each customer.
-- Grain: one row per customer with at least one purchase on or before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day observed (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: customer_id; recency_days = days from the last purchase day to observation_end;
--   frequency = purchases (orders); monetary = their total value; r_score, f_score, m_score
--   1-5; rfm = the three digits; segment.
-- Scores: a customer's quintile among all customers, by rank, so that ties share a score:
--   1 + floor(5 * percent_rank()), capped at 5. r_score ranks recency_days descending (the most
--   recent buyers score 5), f_score and m_score ascending.
-- Segments, from r_score and f_score (the usual RFM grid):
--   champions (R 5, F 4-5), loyal_customers (R 3-4, F 4-5), potential_loyalists (R 4-5, F 2-3),
--   new_customers (R 5, F 1), promising (R 4, F 1), need_attention (R 3, F 3),
--   about_to_sleep (R 3, F 1-2), cant_lose_them (R 1-2, F 5), at_risk (R 1-2, F 3-4),
--   hibernating (R 1-2, F 1-2).
-- Example: etl segment run rfm --out rfm.parquet (observation_end: the store's last purchase day), or
--   etl segment run rfm --param observation_end=2024-12-31

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

per_customer AS (
    SELECT
        customer_key,
        max(day) AS last_day,
        count(*) AS frequency,
        sum(value) AS monetary
    FROM bought
    GROUP BY customer_key
),

recent AS (
    SELECT
        per_customer.customer_key,
        parameters.observation_end - per_customer.last_day AS recency_days,
        per_customer.frequency,
        per_customer.monetary
    FROM per_customer
    CROSS JOIN parameters
),

scored AS (
    SELECT
        *,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY recency_days DESC)))::INTEGER AS r_score,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY frequency)))::INTEGER AS f_score,
        least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY monetary)))::INTEGER AS m_score
    FROM recent
)

SELECT
    customer_keys.customer_id,
    recency_days,
    frequency,
    monetary,
    r_score,
    f_score,
    m_score,
    r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR AS rfm,
    CASE
        WHEN r_score = 5 AND f_score >= 4 THEN 'champions'
        WHEN r_score >= 3 AND f_score >= 4 THEN 'loyal_customers'
        WHEN r_score >= 4 AND f_score BETWEEN 2 AND 3 THEN 'potential_loyalists'
        WHEN r_score = 5 AND f_score = 1 THEN 'new_customers'
        WHEN r_score = 4 AND f_score = 1 THEN 'promising'
        WHEN r_score = 3 AND f_score = 3 THEN 'need_attention'
        WHEN r_score = 3 AND f_score <= 2 THEN 'about_to_sleep'
        WHEN f_score = 5 THEN 'cant_lose_them'
        WHEN f_score >= 3 THEN 'at_risk'
        ELSE 'hibernating'
    END AS segment
FROM scored
LEFT JOIN customer_keys USING (customer_key)
ORDER BY customer_keys.customer_id
