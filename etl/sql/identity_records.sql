-- Each record of this import and its customer: the customer of its first id in the order external_id,
-- email, email_sha256, phone, other types, then value (a record's ids are one customer but when a link
-- to a second external id's person was not followed).
-- Grain in: stg_evidence (one row per id of a record), identities.
-- Grain out: stg_record_customers, one row per record. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_record_customers AS
WITH ranked AS (
    SELECT s.record, i.customer_id,
           row_number() OVER (
               PARTITION BY s.record
               ORDER BY CASE s.id_type WHEN 'external_id' THEN 0 WHEN 'email' THEN 1 WHEN 'email_sha256' THEN 2
                                       WHEN 'phone' THEN 3 ELSE 4 END,
                        s.id_type, s.business_unit, s.id_value
           ) AS n
    FROM stg_evidence AS s
    JOIN identities AS i USING (id_type, business_unit, id_value)
)
SELECT record, customer_id FROM ranked WHERE n = 1;
