-- The people's attributes after this import, when its records carry no updated_at: each customer's stored
-- attributes patched by its records in their order (RFC 7386 JSON merge patch: a later record wins, a null
-- removes the attribute), whole objects at a time. With $strategy = 'replace' the patches start from no
-- attributes. Records with updated_at go through customers_attributes_timed.sql instead.
-- Grain in: stg_customer_records, one row per valid record (_seq: its order in the import; customer_id;
-- patch, a JSON object; not_attributes, a merge patch of nulls naming the id fields; drop_nulls: a null in
-- the patch is left out rather than removing).
-- Grain out: stg_patches, one per record, its patch ready; customers.attributes updated; customer_changes, one row per customer of the import:
-- change = added | updated | unchanged.
-- Parameters: $import_id, $strategy (merge | replace).

CREATE OR REPLACE TEMP TABLE stg_patches AS
SELECT
    _seq,
    customer_id,
    CASE WHEN drop_nulls  -- a patch applied to {} loses its nulls
        THEN json_merge_patch('{}', json_merge_patch(patch::JSON, not_attributes::JSON))
        ELSE json_merge_patch(patch::JSON, not_attributes::JSON) END AS patch,
    count(*) OVER (PARTITION BY customer_id) AS records
FROM stg_customer_records;

CREATE OR REPLACE TEMP TABLE customer_changes AS
WITH several AS (  -- the few customers with more than one record: their patches in record order
    SELECT customer_id, list(patch ORDER BY _seq) AS patches
    FROM stg_patches
    WHERE records > 1
    GROUP BY customer_id
),
after AS (
    SELECT c.customer_id, c.first_import_id, c.attributes AS before,
           json_merge_patch(CASE WHEN $strategy = 'replace' THEN '{}'::JSON ELSE c.attributes END, p.patch)
               AS attributes
    FROM stg_patches AS p
    JOIN customers AS c USING (customer_id)
    WHERE p.records = 1
    UNION ALL
    SELECT c.customer_id, c.first_import_id, c.attributes AS before,
           list_reduce(
               list_prepend(CASE WHEN $strategy = 'replace' THEN '{}'::JSON ELSE c.attributes END, p.patches),
               lambda a, b: json_merge_patch(a, b)
           ) AS attributes
    FROM several AS p
    JOIN customers AS c USING (customer_id)
)
SELECT customer_id, attributes,
       CASE WHEN first_import_id = $import_id THEN 'added'
            WHEN attributes::VARCHAR = before::VARCHAR THEN 'unchanged'
            ELSE 'updated' END AS change
FROM after;

UPDATE customers SET attributes = ch.attributes, last_import_id = $import_id
FROM customer_changes AS ch
WHERE customers.customer_id = ch.customer_id AND ch.change <> 'unchanged';
