-- Recompute orders.content_hash for every stored order, with the expression of merge_orders.sql.
-- Grain: one UPDATE over orders. Runs inside an import when the store's hashes were computed by
-- another DuckDB version (store_meta.content_hash_version), whose hash() may differ.
-- Parameters: $version, the running DuckDB version, recorded when done.

CREATE OR REPLACE TEMP TABLE stored_hashes AS
WITH stored_lines AS (
    SELECT order_id, sum(hash(*COLUMNS(* EXCLUDE (last_import_id)))) AS lines_hash
    FROM line_items
    GROUP BY order_id
),
stored_orders AS (
    SELECT order_id, hash(*COLUMNS(* EXCLUDE (first_import_id, last_import_id, content_hash, customer_id))) AS order_hash
    FROM orders
)
SELECT stored_orders.order_id, hash(stored_orders.order_hash, stored_lines.lines_hash) AS content_hash
FROM stored_orders
JOIN stored_lines ON stored_lines.order_id = stored_orders.order_id;

UPDATE orders
SET content_hash = stored_hashes.content_hash
FROM stored_hashes
WHERE orders.order_id = stored_hashes.order_id;

DELETE FROM store_meta WHERE key = 'content_hash_version';

INSERT INTO store_meta VALUES ('content_hash_version', $version);
