-- Apply order_changes to the store and generate the events.
-- Grain: one statement per table; runs inside the import's transaction.
-- Parameters: $import_id (this run), $started_at (the run's start, for orderUpdate events
-- of orders that carry no last_updated).

CREATE OR REPLACE TEMP TABLE changed_orders AS
SELECT order_id, change FROM order_changes WHERE change <> 'unchanged';

DELETE FROM line_items
WHERE order_id IN (SELECT order_id FROM changed_orders WHERE change = 'updated');

INSERT INTO line_items
SELECT stg_line_items.*, $import_id AS last_import_id
FROM stg_line_items
SEMI JOIN changed_orders ON changed_orders.order_id = stg_line_items.order_id;

CREATE OR REPLACE TEMP TABLE replaced_orders AS
SELECT order_id, first_import_id
FROM orders
WHERE order_id IN (SELECT order_id FROM changed_orders WHERE change = 'updated');

DELETE FROM orders
WHERE order_id IN (SELECT order_id FROM replaced_orders);

INSERT INTO orders
SELECT
    stg_orders.*,
    coalesce(replaced_orders.first_import_id, $import_id) AS first_import_id,
    $import_id AS last_import_id,
    staged_hashes.content_hash
FROM stg_orders
SEMI JOIN changed_orders ON changed_orders.order_id = stg_orders.order_id
JOIN staged_hashes ON staged_hashes.order_id = stg_orders.order_id
LEFT JOIN replaced_orders ON replaced_orders.order_id = stg_orders.order_id;

INSERT INTO users
SELECT DISTINCT ON (customer_id) customer_id, user_id_type, user_id, $import_id
FROM stg_orders
SEMI JOIN changed_orders ON changed_orders.order_id = stg_orders.order_id
ANTI JOIN users ON users.customer_id = stg_orders.customer_id;

INSERT INTO events
SELECT
    (SELECT coalesce(max(event_id), 0) FROM events) + row_number() OVER (),
    CASE changed_orders.change WHEN 'added' THEN 'orderPlace' ELSE 'orderUpdate' END,
    stg_orders.order_id,
    stg_orders.customer_id,
    CASE changed_orders.change
        WHEN 'added' THEN stg_orders.created_at
        ELSE coalesce(stg_orders.last_updated, $started_at::TIMESTAMPTZ)
    END,
    $import_id
FROM stg_orders
JOIN changed_orders ON changed_orders.order_id = stg_orders.order_id;
