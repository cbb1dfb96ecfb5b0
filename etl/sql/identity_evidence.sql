-- This import's evidence: the distinct sets of ids its records carry, added to identity_evidence.
-- Grain in: stg_identity_links, one row per id of a record of this import (record, id_type,
-- business_unit, id_value; values already normalised by the format).
-- Grain out: stg_evidence, one row per id of each record, with its evidence key (the md5 of the
-- record's sorted ids); stg_new_evidence, the count of sets identity_evidence did not have (none: the
-- graph is unchanged, and resolving is a lookup).
-- Parameters: $import_id.

CREATE OR REPLACE TEMP TABLE stg_evidence AS
WITH ids AS (
    SELECT DISTINCT record, id_type, business_unit, id_value FROM stg_identity_links
),
sets AS (
    SELECT
        record,
        md5(string_agg(id_type || chr(31) || business_unit || chr(31) || id_value, chr(30)
            ORDER BY id_type, business_unit, id_value)) AS evidence
    FROM ids
    GROUP BY record
)
SELECT sets.record, sets.evidence, ids.id_type, ids.business_unit, ids.id_value
FROM ids
JOIN sets USING (record);

CREATE OR REPLACE TEMP TABLE stg_new_evidence AS
SELECT DISTINCT s.evidence, s.id_type, s.business_unit, s.id_value
FROM stg_evidence AS s
ANTI JOIN identity_evidence AS e ON e.evidence = s.evidence;

INSERT INTO identity_evidence SELECT *, $import_id FROM stg_new_evidence;
