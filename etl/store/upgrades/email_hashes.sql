-- Upgrade a store written before an email and its sha256 were one identity: every stored email as a record for
-- etl.entities.identity.graph, which adds its email_sha256 (entities/identity/email_hashes.sql) and merges the people who held the two.
-- Grain out: stg_identity_links, one per stored email identity. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT row_number() OVER (ORDER BY business_unit, id_value) AS record, id_type, business_unit, id_value
FROM identities
WHERE id_type = 'email';
