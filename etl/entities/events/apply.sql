-- The import's new events into the store, with their items.
-- Grain in: stg_event_records (entities/events/stage.sql: the added ones, with their event_id), stg_rows (their
-- columns), stg_record_customers (etl.entities.identity.graph: record -> customer_id). The wide rows are read once, joined to
-- the narrow tables.
-- Grain out: events, one row per added record; event_items, one per item of those (found in the properties at
-- the first of the item paths given; an item's columns from the first of its keys given, etl.formats.events).
-- Parameters: $import_id, $format, $started_at (the time of an event without one), $id_types (the type of
-- each value of ids: the first given names the person), $item_paths, $currency_paths (the format's).

INSERT INTO events BY NAME
WITH added AS (
    SELECT _seq, event_id FROM stg_event_records WHERE change = 'added'
),

rows AS (
    SELECT r.*, list_position(list_transform(r.ids, lambda v: v IS NOT NULL), true) AS id_index
    FROM stg_rows AS r
)

SELECT
    added.event_id, rows.event_type, rows.order_id, people.customer_id,
    coalesce(rows.occurred_at, $started_at::TIMESTAMPTZ) AS occurred_at, $import_id AS import_id, $format AS format,
    rows.business_unit, ($id_types::VARCHAR[])[rows.id_index] AS user_id_type, rows.ids[rows.id_index] AS user_id,
    rows.properties::JSON AS properties,
    (rows.key_hi::UHUGEINT << 64) | rows.key_lo::UHUGEINT AS event_key,
    (rows.hash_hi::UHUGEINT << 64) | rows.hash_lo::UHUGEINT AS record_hash
FROM rows
JOIN added USING (_seq)
LEFT JOIN stg_record_customers AS people ON people.record = rows._seq;

INSERT INTO event_items BY NAME
WITH added AS (
    SELECT _seq, event_id FROM stg_event_records WHERE change = 'added'
),

found AS (  -- the first of the paths given (one parse of the event for all of them)
    SELECT
        added.event_id,
        list_filter(json_extract(r.properties, $item_paths::VARCHAR[]), lambda v: v IS NOT NULL)[1] AS items,
        list_filter(json_extract_string(r.properties, $currency_paths::VARCHAR[]), lambda v: v IS NOT NULL)[1]
            AS currency
    FROM stg_rows AS r
    JOIN added USING (_seq)
),

listed AS (  -- an array of items, or one item
    SELECT event_id, currency,
        CASE json_type(items) WHEN 'ARRAY' THEN json_extract(items, '$[*]') WHEN 'OBJECT' THEN [items] END AS list
    FROM found
    WHERE items IS NOT NULL
),

items AS (
    SELECT event_id, currency AS event_currency, unnest(range(1, len(list) + 1)) AS position, unnest(list) AS item
    FROM listed
)

SELECT
    event_id,
    position::INTEGER AS position,
    coalesce(item ->> 'product_id', item ->> 'productId', item ->> 'externalItemId', item ->> 'id') AS product_id,
    item ->> 'sku' AS sku,
    item ->> 'name' AS name,
    coalesce(item ->> 'category', item ->> 'productCategoryId') AS category,
    TRY_CAST(item ->> 'quantity' AS DOUBLE) AS quantity,
    TRY_CAST(coalesce(item ->> 'price', item ->> 'cost') AS DOUBLE) AS price,
    coalesce(item ->> 'currency', event_currency) AS currency,
    item AS attributes,
    $import_id AS import_id
FROM items;
