-- Customers merged into others (stg_merges): each merged customer's attributes go to the customer it is merged
-- into where that one has none of that name, or, with times (customer_attribute_times), the one set latest wins;
-- the merges are recorded, and the merged customers removed. Used by imports (entities/identity/assign.sql
-- stages the merges) and by the upgrade of ids' case (store/upgrades/ids_case_merges.sql).
-- Grain in: stg_merges (merged_id, into_id), one per merged customer; customers, customer_attribute_times.
-- Grain out: customers and customer_attribute_times updated; customer_merges gains one row per merge.
-- Parameters: $import_id (the merges are recorded under it, and the kept customers marked with it).

INSERT INTO customer_merges SELECT $import_id, merged_id, into_id FROM stg_merges;

-- the merged customers' attributes go to the kept one where it has none of that name
UPDATE customers SET attributes = merged.attributes, last_import_id = $import_id, record_hash = NULL
FROM (
    SELECT
        m.into_id,
        -- a later patch wins: the merged ones' from the newest to the oldest, then the kept one's own
        json_merge_patch(
            list_reduce(list(c.attributes ORDER BY c.customer_id DESC), lambda a, b: json_merge_patch(a, b)),
            any_value(target.attributes)
        ) AS attributes
    FROM stg_merges AS m
    JOIN customers AS c ON c.customer_id = m.merged_id
    JOIN customers AS target ON target.customer_id = m.into_id
    GROUP BY m.into_id
) AS merged
WHERE customers.customer_id = merged.into_id;

-- with times (customer_attribute_times, kept when a format gives updated_at), an attribute is the one set
-- latest among the merged customers and the kept one, and its time goes with it: so that the result does not
-- depend on which customer was kept, nor on the order of the imports
CREATE OR REPLACE TEMP TABLE stg_merge_times AS
WITH merging AS (
    SELECT merged_id AS customer_id, into_id FROM stg_merges
    UNION
    SELECT into_id, into_id FROM stg_merges
)
SELECT m.into_id, t.name, arg_max(t.customer_id, (t.updated_at, t.customer_id = m.into_id)) AS source_id,
       max(t.updated_at) AS updated_at
FROM customer_attribute_times AS t
JOIN merging AS m USING (customer_id)
GROUP BY m.into_id, t.name;

UPDATE customers SET attributes = json_merge_patch(customers.attributes, latest.patch)
FROM (
    SELECT
        mt.into_id,
        ('{' || string_agg(to_json(mt.name)::VARCHAR || ':' || coalesce(e.value::VARCHAR, 'null'), ',') || '}')::JSON
            AS patch
    FROM stg_merge_times AS mt
    JOIN customers AS source ON source.customer_id = mt.source_id
    LEFT JOIN LATERAL (SELECT value FROM json_each(source.attributes) WHERE key = mt.name) AS e ON true
    WHERE mt.source_id <> mt.into_id
    GROUP BY mt.into_id
) AS latest
WHERE customers.customer_id = latest.into_id;

DELETE FROM customer_attribute_times
WHERE customer_id IN (SELECT merged_id FROM stg_merges UNION SELECT into_id FROM stg_merges);

INSERT INTO customer_attribute_times SELECT into_id, name, updated_at FROM stg_merge_times;

DELETE FROM customers WHERE customer_id IN (SELECT merged_id FROM stg_merges);
