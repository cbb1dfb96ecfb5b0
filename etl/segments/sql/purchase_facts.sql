-- Segment: purchase_facts
-- Purchases keyed by the customer's number: what the per-customer segments group by (grouping
-- 10 million orders by a number is much faster than by the text customer_id). purchases is the
-- same with the customer_id.
-- Grain: one row per purchase (an order) on or before observation_end.
-- Parameters:
--   observation_end  DATE       NULL      The last day counted (UTC); default: the store's last purchase day (UTC).
--   statuses         VARCHAR[]  ['placed', 'paid', 'fulfilled']  Line item statuses that make a purchase.
-- Columns: order_id, customer_key (customer_keys.customer_key), day (UTC), created_at, value
--   (the total of the order's line items whose status is in statuses; null when all their
--   totals are null). An order without such a line item is no purchase.
-- Orders without a buyer are left out. Reads order_facts, which imports keep current. When orders or line items were changed
-- outside an import, it stops with an error until `etl refresh` (or an import) rebuilds them;
-- statuses outside placed, paid, fulfilled, refunded and cancelled are an error too.
-- The store's last purchase day is the last day of these rows, with observation_end NULL (every purchase): the
-- macro last_purchase_day(statuses) that the other segments' observation_end defaults to.
-- Example: etl segment run purchase_facts --param observation_end=2024-12-31 --out facts.parquet

WITH parameters AS (
    SELECT $observation_end::DATE AS observation_end,
        $statuses::VARCHAR[] AS statuses
),

checked AS (
    SELECT
        CASE
            WHEN NOT order_facts_current() THEN error(
                'order_facts is out of date: orders or line items were changed outside an import; '
                || 'run `etl refresh` (or an import) to rebuild it'
            )
            WHEN NOT list_has_all(['placed', 'paid', 'fulfilled', 'refunded', 'cancelled'], parameters.statuses)
                THEN error(
                    'statuses: each must be one of placed, paid, fulfilled, refunded, cancelled; got '
                    || parameters.statuses::VARCHAR
                )
            ELSE true
        END AS ok,
        parameters.observation_end AS observation_end,
        list_contains(parameters.statuses, 'placed') AS placed,
        list_contains(parameters.statuses, 'paid') AS paid,
        list_contains(parameters.statuses, 'fulfilled') AS fulfilled,
        list_contains(parameters.statuses, 'refunded') AS refunded,
        list_contains(parameters.statuses, 'cancelled') AS cancelled
    FROM parameters
),

order_facts AS (
    SELECT * FROM main.order_facts
    WHERE customer_key IS NOT NULL  -- an order without a buyer (customer_id null) is nobody's purchase
),

chosen AS (
    -- per status, its line count and value, when the status makes a purchase
    SELECT
        order_facts.order_id,
        order_facts.customer_key,
        order_facts.day,
        order_facts.created_at,
        CASE WHEN checked.placed THEN order_facts.placed_lines ELSE 0 END
            + CASE WHEN checked.paid THEN order_facts.paid_lines ELSE 0 END
            + CASE WHEN checked.fulfilled THEN order_facts.fulfilled_lines ELSE 0 END
            + CASE WHEN checked.refunded THEN order_facts.refunded_lines ELSE 0 END
            + CASE WHEN checked.cancelled THEN order_facts.cancelled_lines ELSE 0 END AS lines,
        CASE WHEN checked.placed THEN order_facts.placed_value END AS placed_value,
        CASE WHEN checked.paid THEN order_facts.paid_value END AS paid_value,
        CASE WHEN checked.fulfilled THEN order_facts.fulfilled_value END AS fulfilled_value,
        CASE WHEN checked.refunded THEN order_facts.refunded_value END AS refunded_value,
        CASE WHEN checked.cancelled THEN order_facts.cancelled_value END AS cancelled_value
    FROM order_facts, checked
    WHERE checked.ok AND (checked.observation_end IS NULL OR order_facts.day <= checked.observation_end)
)

SELECT
    order_id,
    customer_key,
    day,
    created_at,
    -- sum() of the chosen line totals: null when every one of them is null
    CASE
        WHEN coalesce(placed_value, paid_value, fulfilled_value, refunded_value, cancelled_value) IS NOT NULL
            THEN coalesce(placed_value, 0) + coalesce(paid_value, 0) + coalesce(fulfilled_value, 0)
                + coalesce(refunded_value, 0) + coalesce(cancelled_value, 0)
    END AS value
FROM chosen
WHERE lines > 0
