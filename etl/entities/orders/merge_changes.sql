-- The staged orders' changes, from entities/orders/merge.sql's staged_orders and entities/orders/merge_compare.sql's compared_orders
-- (see entities/orders/merge.sql's header). Grain out: order_changes, one per staged order, change = added | updated |
-- unchanged; line_changes, one per (change) of the line items, with their count. Parameters: none.

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
