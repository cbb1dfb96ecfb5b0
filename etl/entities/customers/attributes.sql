-- The people's attributes after this import, when its records carry no updated_at: each customer's stored
-- attributes patched by its records in their order (RFC 7386 JSON merge patch: a later record wins, a null
-- removes the attribute), whole objects at a time. With $strategy = 'replace' the patches start from no
-- attributes. A new customer gets its patches applied to no attributes (so no nulls are kept). A record that
-- is its customer's only one in the import, and whose hash is that of the last record applied to the
-- customer alone, changes nothing (a merge patch applied twice gives what it gave once): it is not applied
-- again, which makes a re-import cheap (most such records never get here: entities/customers/known.sql). Records with
-- updated_at go through entities/customers/attributes_timed.sql.
-- Grain in: stg_customer_records, one row per record to apply (_seq: its order in the import; customer_id;
-- drop_nulls: a null in the patch is left out rather than removing; record_hash); stg_rows, its patch (a
-- JSON object as text) and not_attributes (a merge patch of nulls naming the id fields); stg_new_customers
-- (etl.entities.identity.graph).
-- Grain out: customers added and updated; customer_changes, one row per customer of the import but the
-- skipped ones' (unchanged): change = added | updated | unchanged.
-- Parameters: $import_id, $strategy (merge | replace).

-- a record's patch as applied: the id fields taken out (JSON lines keep them in the record); applied to {}, a
-- patch loses its nulls: what a new customer gets, and what drop_nulls asks for
CREATE OR REPLACE TEMP MACRO stg_patch_object(patch, not_attributes, drop_nulls) AS
    CASE WHEN drop_nulls AND contains(patch, 'null')
         THEN json_merge_patch('{}', json_merge_patch(patch::JSON, not_attributes::JSON))
         WHEN not_attributes = '{}' THEN patch::JSON
         ELSE json_merge_patch(patch::JSON, not_attributes::JSON) END;

CREATE OR REPLACE TEMP TABLE stg_patches AS
WITH counted AS (
    SELECT customer_id, count(*) AS records FROM stg_customer_records GROUP BY customer_id
)
SELECT r._seq, r.customer_id, c.records, r.drop_nulls, r.record_hash, n.customer_id IS NOT NULL AS is_new
FROM stg_customer_records AS r
JOIN counted AS c USING (customer_id)
LEFT JOIN stg_new_customers AS n USING (customer_id);

CREATE OR REPLACE TEMP TABLE stg_unchanged AS  -- the same record as last time: nothing to do
SELECT p.customer_id
FROM stg_patches AS p
JOIN customers AS c USING (customer_id)
WHERE p.records = 1 AND c.record_hash = p.record_hash;

-- a new customer of one record (most of a first import): its attributes are its patch, straight from the file
INSERT INTO customers BY NAME
SELECT p.customer_id, stg_patch_object(r.patch, r.not_attributes, true) AS attributes,
       $import_id AS first_import_id, $import_id AS last_import_id, p.record_hash
FROM stg_patches AS p
JOIN stg_rows AS r ON r._seq = p._seq
WHERE p.is_new AND p.records = 1;

CREATE OR REPLACE TEMP TABLE stg_to_apply AS  -- the others: few, but in a first import
WITH todo AS (
    SELECT * FROM stg_patches ANTI JOIN stg_unchanged USING (customer_id) WHERE NOT (is_new AND records = 1)
)
SELECT p._seq, p.customer_id, p.records, p.record_hash, p.is_new,
       stg_patch_object(r.patch, r.not_attributes, p.drop_nulls OR p.is_new) AS patch
FROM todo AS p
JOIN stg_rows AS r ON r._seq = p._seq;

CREATE OR REPLACE TEMP TABLE customer_changes AS
WITH several AS (  -- the few customers with more than one record: their patches in record order
    SELECT customer_id, any_value(is_new) AS is_new, list(patch ORDER BY _seq) AS patches
    FROM stg_to_apply
    WHERE records > 1
    GROUP BY customer_id
),
existing AS (
    SELECT c.customer_id, c.attributes AS before,
           json_merge_patch(CASE WHEN $strategy = 'replace' THEN '{}'::JSON ELSE c.attributes END, p.patch)
               AS attributes,
           p.record_hash
    FROM stg_to_apply AS p
    JOIN customers AS c USING (customer_id)
    WHERE p.records = 1 AND NOT p.is_new
    UNION ALL
    SELECT c.customer_id, c.attributes AS before,
           list_reduce(
               list_prepend(CASE WHEN $strategy = 'replace' THEN '{}'::JSON ELSE c.attributes END, p.patches),
               lambda a, b: json_merge_patch(a, b)
           ) AS attributes,
           NULL AS record_hash
    FROM several AS p
    JOIN customers AS c USING (customer_id)
    WHERE NOT p.is_new
)
SELECT customer_id, NULL::JSON AS attributes, NULL::UHUGEINT AS record_hash, 'added' AS change  -- stored above
FROM stg_patches WHERE is_new AND records = 1
UNION ALL
SELECT customer_id, list_reduce(list_prepend('{}'::JSON, patches), lambda a, b: json_merge_patch(a, b)), NULL, 'added'
FROM several WHERE is_new
UNION ALL
SELECT customer_id, attributes, record_hash,
       CASE WHEN attributes::VARCHAR = before::VARCHAR THEN 'unchanged' ELSE 'updated' END
FROM existing
UNION ALL
SELECT customer_id, NULL, NULL, 'unchanged' FROM stg_unchanged;

INSERT INTO customers BY NAME
SELECT customer_id, attributes, $import_id AS first_import_id, $import_id AS last_import_id, record_hash
FROM customer_changes WHERE change = 'added' AND attributes IS NOT NULL;

-- a changed customer's row replaced, not updated: DuckDB then writes the new rows alone, where an update
-- would have every column segment it touches written again (1% of the customers changed touch them all);
-- an unchanged customer learns the record's hash, so that the next time it is skipped
CREATE OR REPLACE TEMP TABLE stg_customer_rows AS
SELECT c.customer_id, coalesce(ch.attributes, c.attributes) AS attributes, c.first_import_id,
       CASE WHEN ch.change = 'updated' THEN $import_id ELSE c.last_import_id END AS last_import_id,
       ch.record_hash
FROM customer_changes AS ch
JOIN customers AS c USING (customer_id)
WHERE ch.change = 'updated'
   OR (ch.change = 'unchanged' AND ch.record_hash IS NOT NULL AND c.record_hash IS DISTINCT FROM ch.record_hash);

DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM stg_customer_rows);

INSERT INTO customers BY NAME SELECT * FROM stg_customer_rows;
