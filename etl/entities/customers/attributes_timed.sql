-- The people's attributes after this import, when its records carry updated_at: each record's patch applied
-- to its customer, attribute by attribute, the later record winning (the later updated_at, then the later record), a null removing the
-- attribute. An attribute whose stored time (customer_attribute_times, kept when the format gives
-- updated_at) is later than the incoming one's is not overwritten, so that the result does not depend on
-- the order of the imports. With $strategy = 'replace', a customer's attributes are the import's alone.
-- Grain in: stg_customer_records, one row per record to apply (_seq: its order in the import; customer_id;
-- drop_nulls: a null in the patch is left out rather than removing; updated_at, or null); stg_rows, its
-- patch (a JSON object) and not_attributes (a JSON merge patch of nulls naming fields that are not attributes).
-- Grain out: customers.attributes and customer_attribute_times updated; customer_changes, one row per
-- customer of the import: change = added | updated | unchanged.
-- Parameters: $import_id, $strategy (merge | replace).

CREATE OR REPLACE TEMP TABLE stg_attribute_values AS
WITH records AS (
    SELECT c._seq, c.customer_id, c.updated_at, c.drop_nulls,
           json_merge_patch(r.patch::JSON, r.not_attributes::JSON) AS attributes
    FROM stg_customer_records AS c
    JOIN stg_rows AS r USING (_seq)
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
SELECT v.*
FROM stg_attribute_values AS v
LEFT JOIN customer_attribute_times AS t USING (customer_id, name)
WHERE $strategy = 'replace' OR t.updated_at IS NULL OR v.updated_at IS NULL OR v.updated_at >= t.updated_at;

-- the attributes rebuilt as name -> value in name order: one text for one set, so that unchanged is
-- a plain comparison, and analysts see them sorted
CREATE OR REPLACE TEMP TABLE customer_changes AS
WITH touched AS (
    SELECT DISTINCT customer_id FROM stg_customer_records
),
stored AS (
    SELECT c.customer_id, e.key AS name, e.value
    FROM customers AS c
    SEMI JOIN touched USING (customer_id),
    json_each(c.attributes) AS e
    WHERE $strategy = 'merge'
),
merged AS (
    SELECT
        coalesce(p.customer_id, s.customer_id) AS customer_id,
        coalesce(p.name, s.name) AS name,
        CASE WHEN p.name IS NULL THEN s.value WHEN p.is_null THEN NULL ELSE p.value END AS value
    FROM stored AS s
    FULL JOIN stg_attribute_patches AS p ON p.customer_id = s.customer_id AND p.name = s.name
),
after AS (
    SELECT
        t.customer_id,
        ('{' || coalesce(string_agg(to_json(m.name)::VARCHAR || ':' || m.value::VARCHAR, ',' ORDER BY m.name)
                         FILTER (m.value IS NOT NULL), '') || '}')::JSON AS attributes
    FROM touched AS t
    LEFT JOIN merged AS m USING (customer_id)
    GROUP BY t.customer_id
)
SELECT a.customer_id, a.attributes,
       CASE WHEN c.first_import_id = $import_id THEN 'added'
            WHEN a.attributes::VARCHAR = c.attributes::VARCHAR THEN 'unchanged'
            ELSE 'updated' END AS change
FROM after AS a
JOIN customers AS c USING (customer_id);

UPDATE customers SET attributes = ch.attributes, last_import_id = $import_id, record_hash = NULL
FROM customer_changes AS ch
WHERE customers.customer_id = ch.customer_id AND ch.change <> 'unchanged';

DELETE FROM customer_attribute_times AS t
USING stg_attribute_patches AS p
WHERE t.customer_id = p.customer_id AND t.name = p.name AND p.updated_at IS NOT NULL;

INSERT INTO customer_attribute_times
SELECT customer_id, name, updated_at FROM stg_attribute_patches WHERE updated_at IS NOT NULL;
