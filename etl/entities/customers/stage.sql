-- A customers import's staged records as the identity graph takes them (its rejects: entities/staged_rejects.sql).
-- Grain in: stg_unknown_rows (view, entities/customers/known.sql), one per kept record not applied before (_file, _row,
-- _seq, ids: a list of values, null when empty, patch ...).
-- Grain out: stg_identity_links, one per id of such a record (record = _seq).
-- Parameters: $id_types, the type of each value of ids (the format's plan).

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT record, id_type, '' AS business_unit, id_value
FROM (
    SELECT r._seq AS record, unnest($id_types::VARCHAR[]) AS id_type, unnest(r.ids) AS id_value
    FROM stg_unknown_rows AS r
)
WHERE id_value IS NOT NULL;
