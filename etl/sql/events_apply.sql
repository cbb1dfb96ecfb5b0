-- The import's new events into the store, with their items.
-- Grain in: stg_event_records (events_stage.sql) where change = 'added', stg_record_customers (etl.identity:
-- record -> customer_id).
-- Grain out: events, one row per added record; event_items, one per item of those (events.items: a JSON array;
-- an item's columns from the first of its keys given, etl.formats.events).
-- Parameters: $import_id, $format, $id_types (the type of each value of ids: the first given names the person).

CREATE OR REPLACE TEMP TABLE stg_events_added AS
WITH added AS (
    SELECT * FROM stg_event_records WHERE change = 'added'
),

first_id AS (
    SELECT _seq, list_position(list_transform(ids, lambda v: v IS NOT NULL), true) AS id_index
    FROM added
)

SELECT
    (SELECT coalesce(max(event_id), 0) FROM events) + row_number() OVER (ORDER BY added._seq) AS event_id,
    added.*,
    people.customer_id,
    ($id_types::VARCHAR[])[first_id.id_index] AS user_id_type,
    added.ids[first_id.id_index] AS user_id
FROM added
JOIN first_id USING (_seq)
LEFT JOIN stg_record_customers AS people ON people.record = added._seq;

INSERT INTO events BY NAME
SELECT
    event_id, event_type, order_id, customer_id, occurred_at, $import_id AS import_id, $format AS format,
    business_unit, user_id_type, user_id, properties::JSON AS properties, event_key, record_hash
FROM stg_events_added;

INSERT INTO event_items BY NAME
WITH listed AS (
    SELECT event_id, currency, json_extract(items::JSON, '$[*]') AS list
    FROM stg_events_added
    WHERE items IS NOT NULL
),

items AS (
    SELECT event_id, currency AS event_currency, unnest(range(1, len(list) + 1)) AS position, unnest(list) AS item
    FROM listed
)

SELECT
    event_id,
    position::INTEGER AS position,
    coalesce(item ->> 'product_id', item ->> 'productId', item ->> 'id') AS product_id,
    item ->> 'sku' AS sku,
    item ->> 'name' AS name,
    item ->> 'category' AS category,
    TRY_CAST(item ->> 'quantity' AS DOUBLE) AS quantity,
    TRY_CAST(item ->> 'price' AS DOUBLE) AS price,
    coalesce(item ->> 'currency', event_currency) AS currency,
    item AS attributes,
    $import_id AS import_id
FROM items;
