-- What a products import changes: each product of the import against the stored one. A known winning record
-- changes nothing; a record with the stored columns and attributes changes nothing either (its hash is
-- renewed, so that the next import skips it). A product the store holds and the import does not list is
-- missing: kept as it is, or with $missing = 'unavailable' marked out of stock (once).
-- Grain in: stg_product_winners, stg_products, products. Grain out: product_changes, one row per product the import touches
-- (product_id, change: added, updated, unchanged, rehashed, marked_unavailable, missing).
-- Parameters: $missing ('keep' or 'unavailable').

CREATE OR REPLACE TEMP TABLE product_changes AS
WITH read_whole AS (  -- the products of records read whole (a known one changes nothing: it is not compared)
    SELECT product_id FROM stg_product_winners WHERE NOT known
),

stored AS (  -- only the stored products those records name: a re-import reads no stored text
    SELECT * FROM main.products WHERE product_id IN (SELECT product_id FROM read_whole)
),

held AS (  -- their staged records, made whole (the view's attributes) only for these: a first import has none
    SELECT * FROM stg_products WHERE product_id IN (SELECT product_id FROM stored)
),

compared AS (
    SELECT
        held.product_id,
        CASE
            WHEN stored.missing_since IS NULL
                AND (held.item_group_id, held.name, held.description, held.brand, held.category,
                     held.categories, held.google_product_category, held.price, held.sale_price,
                     held.currency, held.availability, held.condition, held.link, held.image_link,
                     held.gtin, held.mpn, held.color, held.size, held.attributes::VARCHAR)
                IS NOT DISTINCT FROM
                    (stored.item_group_id, stored.name, stored.description, stored.brand, stored.category,
                     stored.categories, stored.google_product_category, stored.price, stored.sale_price,
                     stored.currency, stored.availability, stored.condition, stored.link, stored.image_link,
                     stored.gtin, stored.mpn, stored.color, stored.size, stored.attributes::VARCHAR)
                THEN CASE WHEN held.record_hash IS NOT DISTINCT FROM stored.record_hash THEN 'unchanged'
                          ELSE 'rehashed' END
            ELSE 'updated'
        END AS change
    FROM held
    JOIN stored USING (product_id)
),

added AS (
    SELECT product_id FROM read_whole WHERE product_id NOT IN (SELECT product_id FROM stored)
),

listed AS (
    SELECT product_id FROM stg_product_winners
),

missing AS (
    SELECT
        stored.product_id,
        CASE WHEN $missing = 'unavailable' AND stored.missing_since IS NULL THEN 'marked_unavailable'
             ELSE 'missing' END AS change
    FROM (SELECT product_id, missing_since FROM main.products) AS stored
    ANTI JOIN listed USING (product_id)
)

SELECT product_id, change FROM compared
UNION ALL
SELECT product_id, 'added' AS change FROM added
UNION ALL
SELECT product_id, 'unchanged' AS change FROM stg_product_winners WHERE known
UNION ALL
SELECT product_id, change FROM missing;
