-- The people's attributes after this import: each record's patch applied to its customer, attribute by
-- attribute, the later record winning (the later updated_at, then the later record), a null removing the
-- attribute. An attribute whose stored time (customer_attribute_times, kept when the format gives
-- updated_at) is later than the incoming one's is not overwritten, so that the result does not depend on
-- the order of the imports. With $strategy = 'replace', a customer's attributes are the import's alone.
-- Grain in: stg_customer_records, one row per valid record (_seq: its order in the import; customer_id;
-- patch, a JSON object; not_attributes, a JSON merge patch of nulls naming fields that are not
-- attributes; drop_nulls: a null in the patch is left out rather than removing; updated_at, or null).
-- Grain out: customers.attributes and customer_attribute_times updated; customer_changes, one row per
-- customer of the import: change = added | updated | unchanged.
-- Parameters: $import_id, $strategy (merge | replace).

CREATE OR REPLACE TEMP TABLE stg_attribute_values AS
WITH records AS (
    SELECT _seq, customer_id, updated_at, drop_nulls,
           json_merge_patch(patch::JSON, not_attributes::JSON) AS attributes
    FROM stg_customer_records
),
values_ AS (
    SELECT r._seq, r.customer_id, r.updated_at, e.key AS name, e.value, e.type = 'NULL' AS is_null, r.drop_nulls
    FROM records AS r, json_each(r.attributes) AS e
)
SELECT customer_id, name,
       arg_max(value, (coalesce(updated_at, TIMESTAMPTZ '-infinity'), _seq)) AS value,
       arg_max(is_null, (coalesce(updated_at, TIMESTAMPTZ '-infinity'), _seq)) AS is_null,
       max(updated_at) AS updated_at
FROM values_
WHERE NOT (is_null AND drop_nulls)
GROUP BY customer_id, name;

CREATE OR REPLACE TEMP TABLE stg_attribute_patches AS
WITH accepted AS (
    SELECT v.*
    FROM stg_attribute_values AS v
    LEFT JOIN customer_attribute_times AS t USING (customer_id, name)
    WHERE $strategy = 'replace' OR t.updated_at IS NULL OR v.updated_at IS NULL OR v.updated_at >= t.updated_at
)
SELECT customer_id,
       json_group_object(name, CASE WHEN is_null THEN NULL ELSE value END) AS patch,
       list(name) FILTER (updated_at IS NOT NULL) AS timed,
       max(updated_at) AS updated_at
FROM accepted
GROUP BY customer_id;

CREATE OR REPLACE TEMP TABLE customer_changes AS
WITH touched AS (
    SELECT DISTINCT customer_id FROM stg_customer_records
),
after AS (
    SELECT t.customer_id, c.attributes AS before, c.first_import_id,
           CASE WHEN $strategy = 'replace' THEN json_merge_patch('{}', coalesce(p.patch, '{}'))
                ELSE json_merge_patch(c.attributes, coalesce(p.patch, '{}')) END AS attributes
    FROM touched AS t
    JOIN customers AS c USING (customer_id)
    LEFT JOIN stg_attribute_patches AS p USING (customer_id)
)
SELECT customer_id, attributes,
       CASE WHEN first_import_id = $import_id THEN 'added'
            WHEN attributes::VARCHAR = before::VARCHAR THEN 'unchanged'
            ELSE 'updated' END AS change
FROM after;

UPDATE customers SET attributes = ch.attributes, last_import_id = $import_id
FROM customer_changes AS ch
WHERE customers.customer_id = ch.customer_id AND ch.change <> 'unchanged';

DELETE FROM customer_attribute_times AS t
USING stg_attribute_patches AS p
WHERE t.customer_id = p.customer_id AND list_contains(p.timed, t.name);

INSERT INTO customer_attribute_times
SELECT v.customer_id, v.name, v.updated_at
FROM stg_attribute_values AS v
JOIN stg_attribute_patches AS p USING (customer_id)
WHERE v.updated_at IS NOT NULL AND list_contains(p.timed, v.name);
