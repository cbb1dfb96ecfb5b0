-- A customers import's staged records as the identity graph takes them, and its rejects.
-- Grain in: stg_rows (view), one per kept record (_file, _row, _seq, ids list of {id_type, id_value},
-- patch, not_attributes, drop_nulls, updated_at); stg_row_rejects (view), one per rejected record.
-- Grain out: stg_identity_links, one per id of a kept record (record = _seq); stg_rejects, one per
-- rejected record with its reasons, raw values and line (JSON lines; a CSV's are counted later).
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT r._seq AS record, i.id_type, '' AS business_unit, i.id_value
FROM stg_rows AS r, unnest(r.ids) AS u(i);

CREATE OR REPLACE TEMP TABLE stg_rejects AS
SELECT _file, _row, raw::JSON AS raw, reasons, _line::BIGINT AS _line
FROM stg_row_rejects;
