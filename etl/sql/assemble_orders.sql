-- Assemble orders from order rows (any row-per-line-item format).
-- Grain in: stg_rows, one per valid input row; stg_row_rejects, one per row that broke a rule.
-- Grain out: stg_orders, one per order; stg_line_items, one per line item; stg_rejects, one per
-- rejected row with every reason (raw is null for rows rejected here; the engine fills it).
-- Rules (the spec's "Kevel Audience CSV" notes): an order's rows are sequential; when they are
-- not, only the last contiguous run is kept; the run's first row supplies the order fields;
-- every row of the run is a line item; a run with a rejected row is rejected whole, so that an
-- order is never stored without one of its line items.
-- Parameters: none. `_seq` numbers the runs across all files of the import, in file order.

CREATE OR REPLACE TEMP TABLE stg_kept_runs AS
WITH all_rows AS (
    SELECT order_id, _seq FROM stg_rows
    UNION ALL
    SELECT order_id, _seq FROM stg_row_rejects WHERE order_id IS NOT NULL
),
last_runs AS (
    SELECT order_id, max(_seq) AS kept_seq, count(DISTINCT _seq) AS runs
    FROM all_rows
    GROUP BY order_id
),
runs_with_rejects AS (
    SELECT DISTINCT _seq FROM stg_row_rejects
)
SELECT
    last_runs.order_id,
    last_runs.kept_seq,
    last_runs.runs,
    runs_with_rejects._seq IS NOT NULL AS has_rejected_row
FROM last_runs
LEFT JOIN runs_with_rejects ON runs_with_rejects._seq = last_runs.kept_seq;

CREATE OR REPLACE TEMP TABLE stg_rejects AS
WITH row_rejects AS (
    SELECT
        r._file, r._row, r._line, r.raw,
        CASE WHEN k.kept_seq IS NOT NULL AND r._seq <> k.kept_seq
            THEN list_append(r.reasons, {'column': 'orderId', 'hint': 'rows of this order are not contiguous: only its last contiguous run of rows is kept'})
            ELSE r.reasons
        END AS reasons
    FROM stg_row_rejects AS r
    LEFT JOIN stg_kept_runs AS k ON k.order_id = r.order_id
),
order_rejects AS (
    SELECT
        s._file, s._row, s._line, NULL::JSON AS raw,
        CASE WHEN s._seq <> k.kept_seq
            THEN [{'column': 'orderId', 'hint': 'rows of this order are not contiguous: only its last contiguous run of rows is kept'}]
            ELSE [{'column': 'orderId', 'hint': 'another row of the same order was rejected, so the whole order is'}]
        END AS reasons
    FROM stg_rows AS s
    JOIN stg_kept_runs AS k ON k.order_id = s.order_id
    WHERE s._seq <> k.kept_seq OR k.has_rejected_row
)
SELECT * FROM row_rejects
UNION ALL
SELECT * FROM order_rejects;

CREATE OR REPLACE TEMP TABLE stg_kept_rows AS
SELECT s.*
FROM stg_rows AS s
JOIN stg_kept_runs AS k ON k.order_id = s.order_id AND k.kept_seq = s._seq
WHERE NOT k.has_rejected_row;

CREATE OR REPLACE TEMP TABLE stg_orders AS
SELECT
    order_id,
    user_id_type || ':' || user_id AS customer_id,
    user_id_type,
    user_id,
    currency,
    total,
    subtotal,
    tax,
    shipping,
    discount,
    refund,
    payment_method,
    shipping_method,
    shipping_country,
    source,
    promotions,
    created_at,
    last_updated,
    custom_fields::JSON AS custom_fields
FROM stg_kept_rows
WHERE _first;

CREATE OR REPLACE TEMP TABLE stg_line_items AS
SELECT
    order_id,
    row_number() OVER (PARTITION BY order_id ORDER BY _file, _row)::INTEGER AS line_no,
    line_item_id,
    product_id,
    item_group_id,
    name,
    sku,
    brand,
    category,
    categories,
    line_currency AS currency,
    line_total AS total,
    line_subtotal AS subtotal,
    line_tax AS tax,
    line_shipping AS shipping,
    line_discount AS discount,
    line_refund AS refund,
    quantity,
    line_promotions AS promotions,
    adult,
    subscription_duration_ms,
    size,
    size_system,
    status
FROM stg_kept_rows;
