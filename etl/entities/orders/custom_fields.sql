-- The orders' custom fields that a format staged as flat columns custom:<key> (etl.formats.rows.CUSTOM_FIELD),
-- packed into one JSON object per order, the null ones left out (RFC 7386: merged into {}, a null is no key).
-- Packed here, for the orders' first rows alone: a format that built the object for every row took longer
-- than the rest of its reading. Packed beside the order's other columns, in a view: joined from a table of
-- their own, a million such objects (750 MB of JSON) outgrew DuckDB's memory limit. Only run when stg_rows
-- has such columns (etl.entities.orders.entity); else the view is stg_order_rows with packed_custom_fields null.
-- The canonical columns have no colon in their names, the keys neither: so the keys are renamed out of their
-- prefix, and the canonical columns into one for the moment, whatever key a format uses (subtotal, id ...).
-- Grain: stg_order_rows_packed (view), one per order's first row: stg_order_rows' columns but the custom:<key>
-- ones, and packed_custom_fields. Parameters: none.

CREATE OR REPLACE TEMP VIEW stg_order_rows_packed AS
WITH renamed AS (
    SELECT COLUMNS('^([^:]*)$') AS 'row:\1', COLUMNS('^custom:(.*)$') AS '\1' FROM stg_order_rows
)
SELECT
    COLUMNS('^row:(.*)$') AS '\1',
    json_merge_patch('{}', to_json(struct_pack(*COLUMNS('^[^:]*$')))) AS packed_custom_fields
FROM renamed;
