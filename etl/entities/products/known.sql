-- The records staged as known (keys and hash alone: etl.pipeline.known) that the import needs whole: a record that
-- only shares its hash's high half with a record a product was stored from (entities/products/stage.sql finds the
-- others' products by their whole hash). The engine then stages and stores the import again, nothing known.
-- Grain in: stg_rows (view; a known record has no not_attributes), stg_product_records (entities/products/stage.sql).
-- Grain out: stg_known_needed, one row: how many records staged as known are needed whole. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_known_needed AS
SELECT (SELECT count(*) FROM stg_rows WHERE not_attributes IS NULL)
    - (SELECT count(*) FROM stg_product_records WHERE known) AS needed;
