-- A products import's records, each given its product, and the one that wins for each product: the last one
-- read (files in the import's order, records in file order). A record staged as known (its keys and hash
-- alone: its hash is the one its product keeps, products.record_hash) stands for that product as stored.
-- Grain in: stg_rows (view: _seq, product_id ... hash_hi, hash_lo; a known record has no not_attributes),
-- products. Grain out: stg_product_records, one row per kept record (_seq, product_id, known, record_hash);
-- stg_product_winners, one per product of the import, its winning record (the same columns); stg_products,
-- one per winning record read whole (not known), its columns (attributes without the keys not_attributes
-- names, and without nulls), a view that the merge and the insert read (as a table, 1M products spilled to
-- disk). Parameters: none.

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

CREATE OR REPLACE TEMP TABLE stg_product_winners AS
WITH last_records AS (  -- (max, then the records by it: a quarter of the cost of arg_max over the columns)
    SELECT max(_seq) AS _seq FROM stg_product_records GROUP BY product_id
)

SELECT * FROM stg_product_records SEMI JOIN last_records USING (_seq);

CREATE OR REPLACE TEMP VIEW stg_products AS
WITH winners AS (
    SELECT * FROM stg_product_winners WHERE NOT known
),

records AS (
    SELECT * FROM stg_rows WHERE not_attributes IS NOT NULL
)

SELECT
    winners.product_id, winners.record_hash,
    records.* EXCLUDE (_file, _row, _seq, product_id, hash_hi, hash_lo, attributes, not_attributes),
    -- patched onto an empty object: every null goes (a field without a value is no attribute), then the keys the
    -- format names
    json_merge_patch('{}', records.attributes, records.not_attributes) AS attributes
FROM winners
JOIN records USING (_seq);
