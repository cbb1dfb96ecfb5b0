-- The catalogue after a products import: the added and updated products written whole (deleted, then
-- inserted: cheaper in DuckDB than scattered updates), the unchanged ones with a new record hash given it, the
-- missing ones of a full feed marked unavailable. Each product stays one row.
-- Grain in: stg_products, product_changes, products. Grain out: products.
-- Parameters: $import_id, $started_at (when the import started: a missing product's missing_since).

CREATE OR REPLACE TEMP TABLE stg_products_replaced AS  -- what the store keeps of the products written again
SELECT product_id, first_import_id, last_import_id
FROM main.products
WHERE product_id IN (SELECT product_id FROM product_changes WHERE change IN ('updated', 'rehashed'));

DELETE FROM main.products WHERE product_id IN (SELECT product_id FROM stg_products_replaced);

INSERT INTO main.products BY NAME
SELECT
    staged.*,
    NULL::TIMESTAMPTZ AS missing_since,
    coalesce(replaced.first_import_id, $import_id) AS first_import_id,
    CASE WHEN changes.change = 'rehashed' THEN replaced.last_import_id ELSE $import_id END AS last_import_id
FROM stg_products AS staged
JOIN product_changes AS changes USING (product_id)
LEFT JOIN stg_products_replaced AS replaced USING (product_id)
WHERE changes.change IN ('added', 'updated', 'rehashed');

UPDATE main.products
SET availability = 'out_of_stock', missing_since = $started_at, last_import_id = $import_id,
    record_hash = NULL  -- it no longer holds what its record said: the record, listed again, is read whole
WHERE product_id IN (SELECT product_id FROM product_changes WHERE change = 'marked_unavailable');
