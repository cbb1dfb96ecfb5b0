-- Assemble orders from order rows (any row-per-line-item format).
-- Grain in: stg_rows, one per valid row (order fields are read from the row that starts a
-- run of an order's rows); stg_row_rejects, one per row that broke a rule. A run is a stretch of consecutive rows with one order id; `_seq` numbers the runs
-- across all files of the import, in file order.
-- Grain out: stg_line_items (view), one per line item (its *_keyed twin carries the run number `_seq`, a
-- cheaper key than order_id for joins; entities/orders/keyed.sql makes stg_orders, once the buyers are resolved);
-- stg_rejects (made by the pipeline from the format's rejects: pipeline/rejects.sql) gains the rows rejected
-- here with their order's run (raw is null for them: the pipeline fills it from the file).
-- Rules (the spec's "Kevel Audience CSV" notes): an order's rows are sequential; when they are
-- not, only the last contiguous run is kept; the run's first row supplies the order fields;
-- every row of the run is a line item; a run with a rejected row is rejected whole, so that an
-- order is never stored without one of its line items.
-- Parameters: $key_field, the input field that holds the order id (orderId, Name ...), named in the reasons.

CREATE OR REPLACE TEMP VIEW stg_order_rows AS
SELECT * FROM stg_rows WHERE _first;

CREATE OR REPLACE TEMP VIEW stg_line_rows AS  -- the rows read (known ones, staged as their hash: entities/orders/known.sql)
SELECT * FROM stg_rows WHERE _first IS NOT NULL AND _line_no IS NOT NULL;  -- an order without items: no line

CREATE OR REPLACE TEMP TABLE stg_dropped_runs AS
WITH runs AS (
    SELECT order_id, _seq FROM stg_order_rows
    UNION ALL
    SELECT order_id, _seq FROM stg_row_rejects WHERE order_id IS NOT NULL
),
kept_runs AS (
    SELECT order_id, max(_seq) AS kept_seq FROM runs GROUP BY order_id
),
runs_with_rejects AS (
    SELECT DISTINCT _seq FROM stg_row_rejects
)
SELECT DISTINCT
    runs._seq,
    CASE
        WHEN runs._seq = kept_runs.kept_seq THEN NULL
        -- _seq is file * 2^32 + run: a kept run in a later file is an update, not a mistake
        WHEN runs._seq // 4294967296 < kept_runs.kept_seq // 4294967296
            THEN 'the order appears again in a later file of this import: the later rows are kept'
        ELSE 'rows of this order are not contiguous: only its last contiguous run of rows is kept'
    END AS superseded_hint
FROM runs
JOIN kept_runs ON kept_runs.order_id = runs.order_id
LEFT JOIN runs_with_rejects ON runs_with_rejects._seq = runs._seq
WHERE runs._seq <> kept_runs.kept_seq OR runs_with_rejects._seq IS NOT NULL;

-- a rejected row of a dropped run says why the run is dropped too
UPDATE stg_rejects SET reasons = list_append(
    stg_rejects.reasons, {'column': $key_field, 'hint': dropped.superseded_hint, 'value': r.order_id}
)
FROM stg_row_rejects AS r
JOIN stg_dropped_runs AS dropped ON dropped._seq = r._seq
WHERE dropped.superseded_hint IS NOT NULL AND stg_rejects._file = r._file AND stg_rejects._row = r._row;

-- the valid rows of a dropped run are rejected with it (raw: the pipeline reads it from the file)
INSERT INTO stg_rejects BY NAME
SELECT
    l._file, l._row, NULL::JSON AS raw,
    [{
        'column': $key_field,
        'hint': coalesce(dropped.superseded_hint, 'another row of the same order was rejected, so the whole order is'),
        'value': l.order_id
    }] AS reasons
FROM stg_line_rows AS l
JOIN stg_dropped_runs AS dropped ON dropped._seq = l._seq;

CREATE OR REPLACE TEMP VIEW stg_line_items_keyed AS
SELECT
    stg_line_rows._seq,
    order_id,
    _line_no AS line_no,
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
    status,
    line_custom_fields::JSON AS custom_fields  -- last: line_items.custom_fields came after last_import_id
FROM stg_line_rows
ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_line_rows._seq;

CREATE OR REPLACE TEMP VIEW stg_line_items AS
SELECT * EXCLUDE (_seq) FROM stg_line_items_keyed;
