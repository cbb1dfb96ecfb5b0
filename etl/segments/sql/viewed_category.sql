-- Segment: viewed_category
-- Contacts who viewed products of a category at least N times within a window ("interested in knives").
-- Grain: one row per customer with at least min_views such views.
-- Parameters:
--   category_name  VARCHAR  required         The category: the viewed item's category, or the catalogue's
--                                            (products.category, or one level of products.categories).
--   min_views      INTEGER  1                How many views at least.
--   view_event     VARCHAR  'productViewed'  The event type of a view (events.event_type; its item is the product).
--   start          DATE     NULL             The first day of the window (UTC); none: from the first view.
--   days           INTEGER  NULL             The window's length in days from start; none: to the last view.
-- Columns: customer_id, user_id_type, user_id (to reach the contact), views (view events with an item of the
--   category), last_viewed_at.
-- Example: etl segment run viewed_category --param category_name="Decorative Bands" --param min_views=2

WITH parameters AS (
    SELECT $category_name::VARCHAR AS category_name,
        $min_views::INTEGER AS at_least,
        $view_event::VARCHAR AS view_event,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS NOT MATERIALIZED (  -- read where used: materialising 50M events cost more than scanning twice
    SELECT event_id, customer_id, event_type, user_id_type, user_id, occurred_at FROM main.events
    WHERE customer_id IS NOT NULL
),

event_items AS NOT MATERIALIZED (
    SELECT event_id, product_id, category FROM main.event_items
),

products AS (
    SELECT product_id, category, categories FROM main.products
),

category_products AS (  -- the catalogue's products of the category
    SELECT products.product_id
    FROM products
    CROSS JOIN parameters
    WHERE products.category = parameters.category_name OR list_contains(products.categories, parameters.category_name)
),

category_items AS (  -- items of the category, by their own category or the catalogue's (fewer than the events)
    SELECT event_items.event_id
    FROM event_items
    CROSS JOIN parameters
    WHERE event_items.category = parameters.category_name
       OR event_items.product_id IN (SELECT product_id FROM category_products)
),

views AS (  -- view events with an item of the category (one view, however many such items it has)
    SELECT events.customer_id, events.user_id_type, events.user_id, events.occurred_at
    FROM events
    SEMI JOIN category_items USING (event_id)
    CROSS JOIN parameters
    WHERE events.event_type = parameters.view_event
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
),

per_customer AS (
    SELECT
        customer_id,
        any_value(user_id_type) AS user_id_type,
        any_value(user_id) AS user_id,
        count(*) AS views,
        max(occurred_at) AS last_viewed_at
    FROM views
    GROUP BY customer_id
)

SELECT per_customer.*
FROM per_customer
CROSS JOIN parameters
WHERE per_customer.views >= parameters.at_least
ORDER BY per_customer.customer_id
