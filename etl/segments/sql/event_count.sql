-- Segment: event_count
-- Contacts with at least N events of a type, optionally with a property's value, within a window
-- ("who opened the newsletter three times this month").
-- Grain: one row per customer with at least min_events such events.
-- Parameters:
--   event_name      VARCHAR  required  The event type (events.event_type), e.g. productViewed.
--   min_events      INTEGER  1     How many at least.
--   start           DATE     NULL  The first day of the window (UTC); none: from the first event.
--   days            INTEGER  NULL  The window's length in days from start; none: to the last event.
--   property_name   VARCHAR  NULL  A property the events must have (events.properties, a top-level key) ...
--   property_value  VARCHAR  NULL  ... with this value, as text (a number as DuckDB writes it: 2, 7.5; true).
-- Columns: customer_id, user_id_type, user_id (to reach the contact), events, first_at, last_at.
-- Example: etl segment run event_count --param event_name=productViewed --param min_events=3

WITH parameters AS (
    SELECT $event_name::VARCHAR AS event_name,
        $min_events::INTEGER AS at_least,
        $start::DATE AS start,
        $days::INTEGER AS days,
        $property_name::VARCHAR AS property_name,
        $property_value::VARCHAR AS property_value,
        to_timestamp(epoch($start::DATE::TIMESTAMP)) AS start_at,  -- the days in UTC, whatever the session's zone
        to_timestamp(epoch((coalesce($start::DATE, DATE '1970-01-01') + $days::INTEGER)::TIMESTAMP)) AS end_at
),

events AS NOT MATERIALIZED (  -- read where used: materialising 50M events cost more than scanning twice
    SELECT customer_id, event_type, user_id_type, user_id, occurred_at, properties FROM main.events
    WHERE customer_id IS NOT NULL
),

matching AS (
    SELECT events.customer_id, events.user_id_type, events.user_id, events.occurred_at
    FROM events
    CROSS JOIN parameters
    WHERE events.event_type = parameters.event_name
      AND (parameters.start_at IS NULL OR events.occurred_at >= parameters.start_at)
      AND (parameters.end_at IS NULL OR events.occurred_at < parameters.end_at)
      AND (parameters.property_name IS NULL OR events.properties ->> parameters.property_name = parameters.property_value)
)

SELECT
    customer_id,
    any_value(user_id_type) AS user_id_type,
    any_value(user_id) AS user_id,
    count(*) AS events,
    min(occurred_at) AS first_at,
    max(occurred_at) AS last_at
FROM matching
GROUP BY customer_id
HAVING count(*) >= any_value((SELECT at_least FROM parameters))
ORDER BY customer_id
