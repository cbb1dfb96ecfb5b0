-- What a products import changes: each product of the import against the stored one. A known winning record
-- changes nothing; a record with the stored columns and attributes changes nothing either (its hash is
-- renewed, so that the next import skips it). A product the store holds and the import does not list is
-- missing: kept as it is, or with $missing = 'unavailable' marked out of stock (once).
-- Grain in: stg_products, products. Grain out: product_changes, one row per product the import touches
-- (product_id, change: added, updated, unchanged, rehashed, marked_unavailable, missing).
-- Parameters: $missing ('keep' or 'unavailable').

CREATE OR REPLACE TEMP TABLE product_changes AS
WITH staged AS (
    SELECT * FROM stg_products
),

stored AS (
    SELECT * FROM main.products
),

compared AS (
    SELECT
        staged.product_id,
        CASE
            WHEN staged.known THEN 'unchanged'
            WHEN stored.product_id IS NULL THEN 'added'
            WHEN stored.missing_since IS NULL
                AND (staged.item_group_id, staged.name, staged.description, staged.brand, staged.category,
                     staged.categories, staged.google_product_category, staged.price, staged.sale_price,
                     staged.currency, staged.availability, staged.condition, staged.link, staged.image_link,
                     staged.gtin, staged.mpn, staged.color, staged.size, staged.attributes::VARCHAR)
                IS NOT DISTINCT FROM
                    (stored.item_group_id, stored.name, stored.description, stored.brand, stored.category,
                     stored.categories, stored.google_product_category, stored.price, stored.sale_price,
                     stored.currency, stored.availability, stored.condition, stored.link, stored.image_link,
                     stored.gtin, stored.mpn, stored.color, stored.size, stored.attributes::VARCHAR)
                THEN CASE WHEN staged.record_hash IS NOT DISTINCT FROM stored.record_hash THEN 'unchanged'
                          ELSE 'rehashed' END
            ELSE 'updated'
        END AS change
    FROM staged
    LEFT JOIN stored USING (product_id)
),

missing AS (
    SELECT
        stored.product_id,
        CASE WHEN $missing = 'unavailable' AND stored.missing_since IS NULL THEN 'marked_unavailable'
             ELSE 'missing' END AS change
    FROM stored
    ANTI JOIN staged USING (product_id)
)

SELECT product_id, change FROM compared
UNION ALL
SELECT product_id, change FROM missing;
