-- Recompute orders.content_hash for every stored order, with the expression of merge_orders.sql.
-- Grain: one UPDATE over orders. Runs inside an import when the store's hashes were computed by
-- another DuckDB version (store_meta.content_hash_version), whose hash() may differ.
-- Parameters: $version, the running DuckDB version, recorded when done.

CREATE OR REPLACE TEMP TABLE stored_hashes AS
WITH stored_lines AS (
    SELECT l.order_id, sum(hash(l)) AS lines_hash
    FROM (SELECT COLUMNS(* EXCLUDE (last_import_id)) FROM line_items) AS l
    GROUP BY l.order_id
),
stored_orders AS (
    SELECT COLUMNS(* EXCLUDE (first_import_id, last_import_id, content_hash)) FROM orders
)
SELECT o.order_id, hash(o, stored_lines.lines_hash) AS content_hash
FROM stored_orders AS o
JOIN stored_lines ON stored_lines.order_id = o.order_id;

UPDATE orders
SET content_hash = stored_hashes.content_hash
FROM stored_hashes
WHERE orders.order_id = stored_hashes.order_id;

DELETE FROM store_meta WHERE key = 'content_hash_version';

INSERT INTO store_meta VALUES ('content_hash_version', $version);
