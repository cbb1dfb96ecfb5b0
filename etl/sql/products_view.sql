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
COMMENT ON COLUMN order_lines_enriched.price IS 'The unit price the order import gave (custom_fields.price), else the catalogue''s price when its currency is the line''s; else null.';
COMMENT ON COLUMN order_lines_enriched.in_catalogue IS 'True when the line''s product is in the catalogue (products).';
