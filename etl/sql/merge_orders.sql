-- Merge staged orders into the store: upsert by order_id, one event per added or changed order.
-- Grain in: stg_orders (one per order), stg_line_items (one per (order_id, line_no)).
-- Grain out: order_changes, one per staged order with change = added | updated | unchanged;
-- line_changes, one per line item of those orders with change = added | updated | unchanged | removed.
-- An order is updated when any order field, any line item, or the set of line items changed.
-- Parameters: none (the apply step, merge_apply.sql, takes $import_id and $started_at).

CREATE OR REPLACE TEMP TABLE line_changes AS
WITH staged AS (
    SELECT * FROM stg_line_items
),
stored AS (
    SELECT COLUMNS(* EXCLUDE (last_import_id))
    FROM line_items
    WHERE order_id IN (SELECT order_id FROM stg_orders)
)
SELECT
    coalesce(staged.order_id, stored.order_id) AS order_id,
    coalesce(staged.line_no, stored.line_no) AS line_no,
    CASE
        WHEN stored.order_id IS NULL THEN 'added'
        WHEN staged.order_id IS NULL THEN 'removed'
        WHEN staged IS DISTINCT FROM stored THEN 'updated'
        ELSE 'unchanged'
    END AS change
FROM staged
FULL JOIN stored ON staged.order_id = stored.order_id AND staged.line_no = stored.line_no;

CREATE OR REPLACE TEMP TABLE order_changes AS
WITH staged AS (
    SELECT * FROM stg_orders
),
stored AS (
    SELECT COLUMNS(* EXCLUDE (first_import_id, last_import_id))
    FROM orders
    WHERE order_id IN (SELECT order_id FROM stg_orders)
),
orders_with_changed_lines AS (
    SELECT DISTINCT order_id FROM line_changes WHERE change <> 'unchanged'
)
SELECT
    staged.order_id,
    CASE
        WHEN stored.order_id IS NULL THEN 'added'
        WHEN staged IS DISTINCT FROM stored OR changed.order_id IS NOT NULL THEN 'updated'
        ELSE 'unchanged'
    END AS change
FROM staged
LEFT JOIN stored ON stored.order_id = staged.order_id
LEFT JOIN orders_with_changed_lines AS changed ON changed.order_id = staged.order_id;
