-- The import's new ids get their numbers in stg_record_ids (a new id is a cluster by itself until linked).
-- Grain: stg_record_ids, one per id of a record. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_record_ids AS
SELECT r.* REPLACE (coalesce(r.node, n.node) AS node, coalesce(r.cluster, n.node) AS cluster)
FROM stg_record_ids AS r
LEFT JOIN stg_new_ids AS n ON r.node IS NULL AND n.id_type = r.id_type AND n.business_unit = r.business_unit
    AND n.id_value = r.id_value;
