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
-- were stored as they are does not get here (entities/orders/known.sql). Only orders whose hash differs are compared
-- line by line, for the line-item counts.
-- The hashes are entities/orders/merge_compare.sql's (compared_orders), run between the two statements here only when
-- the store holds some staged order: the staged side's hash reads the packed custom fields, costly for all.
-- Parameters: none (the apply step, entities/orders/apply.sql, takes $import_id and $started_at).

CREATE OR REPLACE TEMP TABLE staged_orders AS
WITH staged_lines AS (
    SELECT _seq, count(*) AS line_count FROM stg_line_items_keyed GROUP BY _seq
)
SELECT
    o._seq, o.order_id, o.customer_id, o.user_id_type, o.user_id, o.created_at, o.last_updated,
    coalesce(l.line_count, 0) AS line_count
FROM stg_orders_keyed AS o
LEFT JOIN staged_lines AS l ON l._seq = o._seq;  -- an order without lines (eSputnik's without items) is an order

