-- Compare the staged orders with the store: which are added, updated or unchanged.
-- Grain in: stg_orders (one per order), stg_line_items (one per (order_id, line_no)).
-- Grain out: order_changes, one per staged order (with its run `_seq`, content hash, and the
-- few fields that events and users are made of), change = added | updated | unchanged;
-- line_changes, one per line item of the updated orders (and of the added ones),
-- change = added | updated | unchanged | removed.
-- An order is updated when any order field, any line item, or the set of line items changed.
-- Orders are compared by a hash of their whole content (the order's fields and every line
-- item with its position): staged_hashes here, orders.content_hash in the store, computed by
-- the same expression (rehash_orders.sql recomputes the stored ones when DuckDB's version,
-- and so possibly its hash(), changed). Only orders whose hash differs are compared line by
-- line, for the line-item counts.
-- Parameters: none (the apply step, merge_apply.sql, takes $import_id and $started_at).

CREATE OR REPLACE TEMP TABLE staged_hashes AS
WITH staged_lines AS (
    SELECT _seq, sum(hash(*COLUMNS(* EXCLUDE (_seq)))) AS lines_hash, count(*) AS line_count
    FROM stg_line_items_keyed
    GROUP BY _seq
),
staged_orders AS (
    SELECT
        _seq, order_id, customer_id, user_id_type, user_id, created_at, last_updated,
        hash(*COLUMNS(* EXCLUDE (_seq, customer_id))) AS order_hash  -- the buyer is user_id; who that is may change
    FROM stg_orders_keyed
)
SELECT
    staged_orders.* EXCLUDE (order_hash),
    staged_lines.line_count,
    hash(staged_orders.order_hash, staged_lines.lines_hash) AS content_hash
FROM staged_orders
JOIN staged_lines ON staged_lines._seq = staged_orders._seq;

CREATE OR REPLACE TEMP TABLE order_changes AS
SELECT
    staged_hashes.*,
    CASE
        WHEN orders.order_id IS NULL THEN 'added'
        WHEN orders.content_hash IS DISTINCT FROM staged_hashes.content_hash THEN 'updated'
        ELSE 'unchanged'
    END AS change
FROM staged_hashes
LEFT JOIN orders ON orders.order_id = staged_hashes.order_id;

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
