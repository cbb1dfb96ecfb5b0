-- The known records (entities/customers/known.sql) after the graph took this import's other records: a known record
-- whose customer they touched (an other record resolved to it, it was merged, or it lost an id: it then no
-- longer holds the record's hash) is looked up through its ids and applied like the others; the rest stay
-- skipped, and stay out of stg_record_customers (most of a re-import: copying them there, to take them out
-- again for the merge, cost more than the rest of it).
-- Grain in: stg_known, stg_rows, stg_record_customers (etl.entities.identity.graph), customers, identities.
-- Grain out: stg_skipped, one per known record still skipped (record, customer_id), none of whose customers
-- is in stg_record_customers; stg_record_customers gains the touched known records; stg_known_needed, one row:
-- how many records staged as known are not skipped (`needed`: touched, or only their hash's high half was
-- known), which the import needs whole (the engine stages and stores it again, nothing known). Parameters: $id_types, the type of each value of ids (the format's plan).

CREATE OR REPLACE TEMP TABLE stg_skipped AS
SELECT k.record, k.customer_id
FROM stg_known AS k
SEMI JOIN customers AS c ON c.customer_id = k.customer_id AND c.record_hash = k.record_hash
ANTI JOIN stg_record_customers AS rc ON rc.customer_id = k.customer_id;

INSERT INTO stg_record_customers
WITH touched AS (  -- few: the known records whose customer this import changed
    SELECT record FROM stg_known ANTI JOIN stg_skipped USING (record)
),
ids AS (
    SELECT r._seq AS record, unnest($id_types::VARCHAR[]) AS id_type, unnest(r.ids) AS id_value
    FROM stg_rows AS r
    SEMI JOIN touched AS t ON t.record = r._seq
)
SELECT ids.record, arg_min(i.customer_id, identity_rank(i.id_type, i.business_unit, i.id_value)) AS customer_id
FROM ids
JOIN identities AS i ON i.id_type = ids.id_type AND i.business_unit = '' AND i.id_value = ids.id_value
GROUP BY ids.record;

CREATE OR REPLACE TEMP TABLE stg_known_needed AS
SELECT (SELECT count(*) FROM stg_rows WHERE drop_nulls IS NULL) - (SELECT count(*) FROM stg_skipped) AS needed;
