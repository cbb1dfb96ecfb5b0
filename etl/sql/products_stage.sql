-- A products import's records, each given its product, and the one that wins for each product: the last one
-- read (files in the import's order, records in file order). A record staged as known (its keys and hash
-- alone: its hash is the one its product keeps, products.record_hash) stands for that product as stored.
-- Grain in: stg_rows (view: _seq, product_id ... hash_hi, hash_lo; a known record has no not_attributes),
-- products. Grain out: stg_product_records, one row per kept record (_seq, product_id, known, record_hash);
-- stg_products, one per product of the import, its winning record's columns (attributes without the keys
-- not_attributes names, and without nulls). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_product_records AS
WITH staged AS (
    SELECT _seq, product_id, not_attributes IS NULL AS known,
           (hash_hi::UHUGEINT << 64) | hash_lo::UHUGEINT AS record_hash
    FROM stg_rows
),

stored AS (
    SELECT product_id, record_hash FROM main.products WHERE record_hash IS NOT NULL
),

known_records AS (  -- the known ones' products, by their whole hash
    SELECT staged._seq, stored.product_id, true AS known, staged.record_hash
    FROM staged
    JOIN stored USING (record_hash)
    WHERE staged.known
)

SELECT _seq, product_id, known, record_hash FROM staged WHERE NOT known
UNION ALL
SELECT _seq, product_id, known, record_hash FROM known_records;

CREATE OR REPLACE TEMP TABLE stg_products AS
WITH winners AS (
    SELECT product_id, arg_max(_seq, _seq) AS _seq, arg_max(known, _seq) AS known,
           arg_max(record_hash, _seq) AS record_hash
    FROM stg_product_records
    GROUP BY product_id
),

records AS (
    SELECT * FROM stg_rows WHERE not_attributes IS NOT NULL
)

SELECT
    winners.product_id, winners.known, winners.record_hash,
    records.* EXCLUDE (_file, _row, _seq, product_id, hash_hi, hash_lo, attributes, not_attributes),
    -- the keys the format names taken out, then every null (a field without a value is no attribute)
    json_merge_patch('{}', json_merge_patch(records.attributes, records.not_attributes)) AS attributes
FROM winners
LEFT JOIN records ON records._seq = winners._seq AND NOT winners.known;
