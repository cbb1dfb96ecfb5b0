-- Apply order_changes to the store and generate the events.
-- Grain: one statement per table; runs inside the import's transaction. Staged rows are found
-- by their run number `_seq` (an integer join), stored ones by order_id.
-- order_row_hashes: the hashes of every order read in full by this import (changed or not) replace its stored
-- ones, so that the next import of the same rows finds it known (entities/orders/known.sql).
-- Parameters: $import_id (this run), $format (its format, for the events), $started_at (the run's start, for orderUpdate events
-- of orders that carry no last_updated).

CREATE OR REPLACE TEMP TABLE changed_orders AS
SELECT * FROM order_changes WHERE change <> 'unchanged';

CREATE OR REPLACE TEMP TABLE replaced_orders AS
SELECT order_id, first_import_id
FROM orders
WHERE order_id IN (SELECT order_id FROM changed_orders WHERE change = 'updated');

DELETE FROM line_items
WHERE order_id IN (SELECT order_id FROM replaced_orders);

DELETE FROM orders
WHERE order_id IN (SELECT order_id FROM replaced_orders);

INSERT INTO line_items BY NAME
SELECT staged.* EXCLUDE (_seq), $import_id AS last_import_id
FROM stg_line_items_keyed AS staged
SEMI JOIN changed_orders ON changed_orders._seq = staged._seq;

INSERT INTO orders
SELECT
    staged.* EXCLUDE (_seq),
    coalesce(replaced_orders.first_import_id, $import_id) AS first_import_id,
    $import_id AS last_import_id
FROM stg_orders_keyed AS staged
JOIN changed_orders ON changed_orders._seq = staged._seq
LEFT JOIN replaced_orders ON replaced_orders.order_id = staged.order_id;

-- an updated order may name another buyer: its earlier order events follow it (they name no id of their own)
UPDATE events SET customer_id = o.customer_id
FROM orders AS o
WHERE o.order_id = events.order_id AND events.user_id_type IS NULL
  AND o.order_id IN (SELECT order_id FROM replaced_orders)
  AND events.customer_id IS DISTINCT FROM o.customer_id;

INSERT INTO events (event_id, event_type, order_id, customer_id, occurred_at, import_id, format)
SELECT
    (SELECT coalesce(greatest(max(event_id), (SELECT max(event_id) FROM deleted_events)), 0) FROM events) + row_number() OVER (),
    CASE changed.change WHEN 'added' THEN 'orderPlace' ELSE 'orderUpdate' END,
    changed.order_id,
    changed.customer_id,
    CASE changed.change
        WHEN 'added' THEN changed.created_at
        ELSE coalesce(changed.last_updated, $started_at::TIMESTAMPTZ)
    END,
    $import_id,
    $format
FROM changed_orders AS changed;

DELETE FROM order_row_hashes
WHERE order_id IN (SELECT order_id FROM stg_orders_keyed);

INSERT INTO order_row_hashes
SELECT (hash_hi::UHUGEINT << 64) | hash_lo::UHUGEINT, order_id
FROM stg_line_rows
ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_line_rows._seq
WHERE hash_hi IS NOT NULL;
