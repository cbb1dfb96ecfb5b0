-- The staged orders the store holds, hashed on both sides by one expression (see entities/orders/merge.sql's header).
-- Grain in: staged_orders (entities/orders/merge.sql), stg_orders_keyed, stg_line_items_keyed, orders, line_items.
-- Grain out: compared_orders, one per staged order the store holds: its run `_seq` and whether its content is
-- the stored one (same). Parameters: none.

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
LEFT JOIN staged_lines ON staged_lines._seq = held._seq  -- an order without lines (eSputnik items are optional)
JOIN stored ON stored.order_id = held.order_id
LEFT JOIN stored_lines ON stored_lines.order_id = held.order_id;

