-- Segment: geo
-- Where customers are: the country (and city, when the orders carry one) they order to most.
-- Grain: one row per customer with at least one order on or before observation_end.
-- Parameters:
--   observation_end  DATE  NULL  The last day counted (UTC); default: the store's last purchase day (UTC).
-- Columns: customer_id, country (orders.shipping_country most used; ties: the latest order's),
--   city (custom_fields->>'city' of the orders, the same way; NULL when no order has one),
--   orders, countries (how many distinct countries the customer ordered to).
-- Orders that are no purchase count too, but observation_end's default is the last purchase day of the
-- default statuses (placed, paid, fulfilled): a later cancelled order counts only when observation_end is given.
-- Kevel's order CSV has no city column: a city comes from a custom_city column (custom_fields).
-- Example: etl segment run geo --param observation_end=2024-12-31

WITH parameters AS (
    SELECT coalesce($observation_end::DATE, last_purchase_day()) AS observation_end
),

orders AS (
    SELECT
        customer_id,
        nullif(trim(shipping_country), '') AS country,
        nullif(trim(custom_fields->>'city'), '') AS city,
        created_at
    FROM main.orders
    WHERE customer_id IS NOT NULL  -- not the orders without a buyer
        AND utc_day(created_at) <= (SELECT parameters.observation_end FROM parameters)
),

country_counts AS (
    SELECT customer_id, country, count(*) AS n, max(created_at) AS latest
    FROM orders
    WHERE country IS NOT NULL
    GROUP BY customer_id, country
),

city_counts AS (
    SELECT customer_id, city, count(*) AS n, max(created_at) AS latest
    FROM orders
    WHERE city IS NOT NULL
    GROUP BY customer_id, city
),

per_customer AS (
    SELECT customer_id, count(*) AS orders, count(DISTINCT country) AS countries
    FROM orders
    GROUP BY customer_id
)

SELECT
    per_customer.customer_id,
    (SELECT arg_max(c.country, (c.n, c.latest)) FROM country_counts AS c WHERE c.customer_id = per_customer.customer_id)
        AS country,
    (SELECT arg_max(c.city, (c.n, c.latest)) FROM city_counts AS c WHERE c.customer_id = per_customer.customer_id)
        AS city,
    per_customer.orders,
    per_customer.countries
FROM per_customer
ORDER BY per_customer.customer_id
