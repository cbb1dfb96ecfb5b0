-- order_lines_enriched: the line items as the segments read them, with what the catalogue knows filled in where
-- the order import left it empty. Only omitted attributes are added; what the import gave is kept (Kevel's
-- rule for order events). The category and its path go together: a line that names either keeps both.
-- A view, so it follows every later feed and import, whichever came first.
-- Grain: one row per line item (order_id, line_no). Parameters: none.

CREATE OR REPLACE VIEW order_lines_enriched AS
WITH line_items AS (
    SELECT * FROM main.line_items
),

products AS (
    SELECT product_id, item_group_id, name, brand, category, categories, price, currency FROM main.products
),

matched AS (
    SELECT
        line_items.*,
        products.product_id IS NOT NULL AS in_catalogue,
        products.item_group_id AS catalogue_item_group_id,
        products.name AS catalogue_name,
        products.brand AS catalogue_brand,
        products.category AS catalogue_category,
        products.categories AS catalogue_categories,
        -- a price is shown only in the line's own currency: amounts in two currencies do not mix
        CASE WHEN products.currency = line_items.currency THEN products.price END AS catalogue_price,
        coalesce(line_items.category, '') = '' AND coalesce(len(line_items.categories), 0) = 0 AS category_omitted
    FROM line_items
    LEFT JOIN products USING (product_id)
)

SELECT
    order_id, line_no, line_item_id, product_id,
    coalesce(nullif(item_group_id, ''), catalogue_item_group_id) AS item_group_id,
    coalesce(nullif(name, ''), catalogue_name) AS name,
    sku,
    coalesce(nullif(brand, ''), catalogue_brand) AS brand,
    CASE WHEN category_omitted THEN catalogue_category ELSE category END AS category,
    CASE WHEN category_omitted THEN catalogue_categories ELSE categories END AS categories,
    currency,
    -- the unit price the order import gave (a Shopify line's), else the catalogue's in the line's currency
    coalesce(TRY_CAST(custom_fields->>'price' AS DOUBLE), catalogue_price) AS price,
    total, subtotal, tax, shipping, discount, refund, quantity, promotions, adult, subscription_duration_ms, size,
    size_system, status, custom_fields, last_import_id, in_catalogue
FROM matched;

COMMENT ON VIEW order_lines_enriched IS 'One row per line item (a view of line_items and products): the line''s columns, with the catalogue''s item_group_id, name, brand, category with categories, and price where the order import left them empty. The segments read it.';
COMMENT ON COLUMN order_lines_enriched.order_id IS 'line_items.order_id.';
COMMENT ON COLUMN order_lines_enriched.line_no IS 'line_items.line_no.';
COMMENT ON COLUMN order_lines_enriched.line_item_id IS 'line_items.line_item_id.';
COMMENT ON COLUMN order_lines_enriched.product_id IS 'line_items.product_id.';
COMMENT ON COLUMN order_lines_enriched.item_group_id IS 'line_items.item_group_id, else the catalogue''s (products.item_group_id).';
COMMENT ON COLUMN order_lines_enriched.name IS 'line_items.name, else the catalogue''s (products.name).';
COMMENT ON COLUMN order_lines_enriched.sku IS 'line_items.sku.';
COMMENT ON COLUMN order_lines_enriched.brand IS 'line_items.brand, else the catalogue''s (products.brand).';
COMMENT ON COLUMN order_lines_enriched.category IS 'line_items.category when the line names a category or categories, else the catalogue''s (products.category).';
COMMENT ON COLUMN order_lines_enriched.categories IS 'line_items.categories when the line names a category or categories, else the catalogue''s (products.categories, most general first).';
COMMENT ON COLUMN order_lines_enriched.currency IS 'line_items.currency.';
COMMENT ON COLUMN order_lines_enriched.price IS 'The unit price the order import gave (custom_fields.price), else the catalogue''s price when its currency is the line''s; else null.';
COMMENT ON COLUMN order_lines_enriched.total IS 'line_items.total.';
COMMENT ON COLUMN order_lines_enriched.subtotal IS 'line_items.subtotal.';
COMMENT ON COLUMN order_lines_enriched.tax IS 'line_items.tax.';
COMMENT ON COLUMN order_lines_enriched.shipping IS 'line_items.shipping.';
COMMENT ON COLUMN order_lines_enriched.discount IS 'line_items.discount.';
COMMENT ON COLUMN order_lines_enriched.refund IS 'line_items.refund.';
COMMENT ON COLUMN order_lines_enriched.quantity IS 'line_items.quantity.';
COMMENT ON COLUMN order_lines_enriched.promotions IS 'line_items.promotions.';
COMMENT ON COLUMN order_lines_enriched.adult IS 'line_items.adult.';
COMMENT ON COLUMN order_lines_enriched.subscription_duration_ms IS 'line_items.subscription_duration_ms.';
COMMENT ON COLUMN order_lines_enriched.size IS 'line_items.size.';
COMMENT ON COLUMN order_lines_enriched.size_system IS 'line_items.size_system.';
COMMENT ON COLUMN order_lines_enriched.status IS 'line_items.status.';
COMMENT ON COLUMN order_lines_enriched.custom_fields IS 'line_items.custom_fields.';
COMMENT ON COLUMN order_lines_enriched.last_import_id IS 'line_items.last_import_id.';
COMMENT ON COLUMN order_lines_enriched.in_catalogue IS 'True when the line''s product is in the catalogue (products).';
