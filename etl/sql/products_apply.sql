-- The catalogue after a products import: the added and updated products written whole (deleted, then
-- inserted: cheaper in DuckDB than scattered updates), the unchanged ones with a new record hash given it, the
-- missing ones of a full feed marked unavailable. Each product stays one row.
-- Grain in: stg_products, product_changes, products. Grain out: products.
-- Parameters: $import_id, $started_at (when the import started: a missing product's missing_since).

CREATE OR REPLACE TEMP TABLE stg_products_written AS
SELECT staged.*, stored.first_import_id AS stored_first_import_id,
       stored.last_import_id AS stored_last_import_id, changes.change
FROM stg_products AS staged
JOIN product_changes AS changes USING (product_id)
LEFT JOIN main.products AS stored USING (product_id)
WHERE changes.change IN ('added', 'updated', 'rehashed');

DELETE FROM main.products WHERE product_id IN (SELECT product_id FROM stg_products_written);

INSERT INTO main.products BY NAME
SELECT
    written.* EXCLUDE (stored_first_import_id, stored_last_import_id, change),
    NULL::TIMESTAMPTZ AS missing_since,
    coalesce(written.stored_first_import_id, $import_id) AS first_import_id,
    CASE WHEN written.change = 'rehashed' THEN written.stored_last_import_id ELSE $import_id END AS last_import_id
FROM stg_products_written AS written;

UPDATE main.products
SET availability = 'out_of_stock', missing_since = $started_at, last_import_id = $import_id,
    record_hash = NULL  -- it no longer holds what its record said: the record, listed again, is read whole
WHERE product_id IN (SELECT product_id FROM product_changes WHERE change = 'marked_unavailable');
