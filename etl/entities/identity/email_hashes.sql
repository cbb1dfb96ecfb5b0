-- An email names the same person as its sha256: every email id of the import's records is given its
-- email_sha256 too, in the same record, so that the graph links the two whichever an import named first (a
-- Kevel users file with plain emails, an E-goi list with their hashes). The formats lowercase and trim an
-- email before it gets here, as they do before hashing one.
-- Grain in and out: stg_identity_links, one row per id of a record (record, id_type, business_unit, id_value);
-- it gains one row per email id whose record does not carry that hash already.
-- Parameters: none.

INSERT INTO stg_identity_links BY NAME
WITH hashes AS (
    SELECT record, 'email_sha256' AS id_type, business_unit, sha256(id_value) AS id_value
    FROM stg_identity_links
    WHERE id_type = 'email'
)
SELECT h.*
FROM hashes AS h
ANTI JOIN stg_identity_links AS l USING (record, id_type, business_unit, id_value);
