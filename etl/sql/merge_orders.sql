-- Compare the staged orders with the store: which are added, updated or unchanged.
-- Grain in: stg_orders (one per order), stg_line_items (one per (order_id, line_no)).
-- Grain out: order_changes, one per staged order (with its run `_seq`, line count, and the few fields that
-- events are made of), change = added | updated | unchanged;
-- line_changes, one per line item of the updated orders (and of the added ones),
-- change = added | updated | unchanged | removed.
-- An order is updated when any order field, any line item, or the set of line items changed.
-- Orders the store holds are compared by a hash of their whole content (the order's fields and every line item
-- with its position), computed here for both sides by one expression: the staged one (stg_orders_keyed,
-- stg_line_items_keyed) and the stored one (orders, line_items), for those orders alone. An order whose rows
-- were stored as they are does not get here (orders_known.sql). Only orders whose hash differs are compared
-- line by line, for the line-item counts.
-- Parameters: none (the apply step, merge_apply.sql, takes $import_id and $started_at).

CREATE OR REPLACE TEMP TABLE staged_orders AS
WITH staged_lines AS (
    SELECT _seq, count(*) AS line_count FROM stg_line_items_keyed GROUP BY _seq
)
SELECT o._seq, o.order_id, o.customer_id, o.user_id_type, o.user_id, o.created_at, o.last_updated, l.line_count
FROM stg_orders_keyed AS o
JOIN staged_lines AS l ON l._seq = o._seq;

CREATE OR REPLACE TEMP TABLE compared_orders AS
WITH held AS (
    SELECT _seq, order_id FROM staged_orders SEMI JOIN orders USING (order_id)
),
staged_lines AS (
    SELECT _seq, sum(hash(*COLUMNS(* EXCLUDE (_seq)))) AS lines_hash
    FROM stg_line_items_keyed SEMI JOIN held USING (_seq)
    GROUP BY _seq
),
staged AS (
    SELECT _seq, hash(*COLUMNS(* EXCLUDE (_seq, customer_id))) AS order_hash  -- the buyer is user_id; who that is may change
    FROM stg_orders_keyed SEMI JOIN held USING (_seq)
),
stored_lines AS (
    SELECT order_id, sum(hash(*COLUMNS(* EXCLUDE (last_import_id)))) AS lines_hash
    FROM line_items SEMI JOIN held USING (order_id)
    GROUP BY order_id
),
stored AS (
    SELECT order_id, hash(*COLUMNS(* EXCLUDE (first_import_id, last_import_id, customer_id))) AS order_hash
    FROM orders SEMI JOIN held USING (order_id)
)
SELECT
    held._seq,
    hash(staged.order_hash, staged_lines.lines_hash)
        IS NOT DISTINCT FROM hash(stored.order_hash, stored_lines.lines_hash) AS same
FROM held
JOIN staged ON staged._seq = held._seq
JOIN staged_lines ON staged_lines._seq = held._seq
JOIN stored ON stored.order_id = held.order_id
LEFT JOIN stored_lines ON stored_lines.order_id = held.order_id;

CREATE OR REPLACE TEMP TABLE order_changes AS
SELECT
    staged_orders.*,
    CASE
        WHEN compared._seq IS NULL THEN 'added'
        WHEN compared.same THEN 'unchanged'
        ELSE 'updated'
    END AS change
FROM staged_orders
LEFT JOIN compared_orders AS compared ON compared._seq = staged_orders._seq;

CREATE OR REPLACE TEMP TABLE line_changes AS
WITH staged AS (
    SELECT * EXCLUDE (_seq) FROM stg_line_items_keyed
    SEMI JOIN order_changes ON order_changes._seq = stg_line_items_keyed._seq AND order_changes.change = 'updated'
),
stored AS (
    SELECT COLUMNS(* EXCLUDE (last_import_id))
    FROM line_items
    SEMI JOIN order_changes ON order_changes.order_id = line_items.order_id AND order_changes.change = 'updated'
),
compared AS (
    SELECT
        CASE
            WHEN stored.order_id IS NULL THEN 'added'
            WHEN staged.order_id IS NULL THEN 'removed'
            WHEN staged IS DISTINCT FROM stored THEN 'updated'
            ELSE 'unchanged'
        END AS change,
        1 AS line_count
    FROM staged
    FULL JOIN stored ON staged.order_id = stored.order_id AND staged.line_no = stored.line_no
),
not_compared AS (
    SELECT CASE change WHEN 'added' THEN 'added' ELSE 'unchanged' END AS change, line_count
    FROM order_changes
    WHERE change <> 'updated'
)
SELECT change, sum(line_count) AS line_count
FROM (SELECT * FROM compared UNION ALL SELECT * FROM not_compared)
GROUP BY change;
