-- The orders' custom fields that a format staged as flat columns custom:<key> (etl.formats.rows.CUSTOM_FIELD),
-- packed into one JSON object per order, the null ones left out (RFC 7386: merged into {}, a null is no key).
-- Packed here, for the orders' first rows alone: a format that built the object for every row took longer
-- than the rest of its reading. Only run when stg_rows has such columns (etl.entities.orders).
-- Grain: stg_order_custom, one per order's first row (_seq, custom_fields JSON). Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_order_custom AS
WITH renamed AS (
    SELECT _seq, COLUMNS('^custom:(.*)$') AS '\1' FROM stg_order_rows
)
SELECT _seq, json_merge_patch('{}', to_json(struct_pack(*COLUMNS(* EXCLUDE (_seq))))) AS custom_fields
FROM renamed;
