-- eSputnik's events, as read: each record (one event, or a past-events body {"events": [...]}, whose events
-- become records of their own) with what the format reads of it, in DuckDB (its JSON functions keep a value of
-- any JSON type as text; Polars' decoding cannot). The format's Polars plan checks and types these columns.
-- Grain in: the file's records (read_parquet($records): _line, _row, _offset, raw), one per JSON value read;
-- record_offsets (registered: _record, first_row, the number of its first event, hash_hi and hash_lo, its
-- hash as read; of the records to read, the others are known: etl.pipeline.prepared).
-- Grain out: one row per event: _line (its record's), _row (the event's number in the file, from 0), _record
-- (its record's number: where its line is found), hash_hi, hash_lo (its record's hash, its place in the record
-- mixed into the low half), _offset, raw (the event's text), es_* (below), properties.
-- Parameters: $records (the Parquet file), $first_record, $last_record (the records read: a part of the file
-- at a time, as its JSON held over 1 GB for 1,000 bodies of 500 events at once), $id_names, $id_name_types (a parameter's name, lowercased, and the
-- id type it gives), $id_types (the plan's id types, in order), $parsed_names (the parameters whose value, a
-- JSON text, is parsed one level), $order_types (the event types that are orders' events), $body_start (the
-- pattern of a body's first characters), $not_json (the records that are not strictly JSON: not read as bodies;
-- the JSON lines parse rejects them), $suspect_records (the records that may hold a trailing comma, NaN or
-- Infinity: their JSON texts are checked strictly by the plan, es_suspect_texts).

WITH shaped AS (
    -- a body: an object whose first key is "events", holding an array (as eSputnik's API takes it), and valid
    -- JSON (esputnik_events.py's COUNTS tells bodies the same way). Its events read by one JSON function: a
    -- json_valid before it held a gigabyte over 1,000 bodies of 500 events (try: NULL for invalid JSON).
    SELECT _line, _row AS _record, _offset, raw,
        CASE WHEN regexp_matches(raw, $body_start) AND NOT list_contains($not_json::INTEGER[], _row)
            THEN try(json_extract(raw, '$.events[*]'))::VARCHAR[] END AS listed
    FROM read_parquet($records)
    WHERE _row BETWEEN $first_record AND $last_record
),

listed AS (
    SELECT
        _line, _record, _offset, listed IS NOT NULL AS in_body,
        coalesce(listed, [raw]) AS list
    FROM shaped
),

events AS (  -- a body's events in its place (_element orders them), each in its body's line
    SELECT
        _line, _record, _offset, in_body, unnest(range(len(list))) AS _element, unnest(list) AS raw,
        list_contains($suspect_records::INTEGER[], _record) AS suspect_record
    FROM listed
),

read AS (
    SELECT
        _line, _record, _offset, _element, raw, in_body, suspect_record,
        -- an object (else: not JSON, or not an object, which the format's plan rejects), read once
        CASE WHEN regexp_matches(raw, '^\s*\{') THEN try(
            json_transform(raw, '{"eventTypeKey": "JSON", "keyValue": "JSON", "occurred": "JSON", "params": "JSON"}')
        ) END AS f
    FROM events
),

fields AS (  -- the JSON type of a field told by its first character (minified JSON): no parse of each
    SELECT
        * EXCLUDE (f),
        CASE WHEN f.eventTypeKey IS NULL THEN NULL WHEN starts_with(f.eventTypeKey, '"') THEN 'VARCHAR' WHEN f.eventTypeKey = 'null' THEN 'NULL' WHEN starts_with(f.eventTypeKey, '[') THEN 'ARRAY' ELSE 'OTHER' END AS type_kind,
        f.eventTypeKey ->> '$' AS event_type,
        CASE WHEN f.keyValue IS NULL THEN NULL WHEN starts_with(f.keyValue, '"') THEN 'VARCHAR' WHEN f.keyValue = 'null' THEN 'NULL' WHEN starts_with(f.keyValue, '[') THEN 'ARRAY' ELSE 'OTHER' END AS key_kind,
        trim(f.keyValue ->> '$') AS key_value,
        CASE WHEN f.occurred IS NULL THEN NULL WHEN starts_with(f.occurred, '"') THEN 'VARCHAR' WHEN f.occurred = 'null' THEN 'NULL' WHEN starts_with(f.occurred, '[') THEN 'ARRAY' ELSE 'OTHER' END AS occurred_kind,
        f.occurred ->> '$' AS occurred,
        CASE WHEN f.params IS NULL THEN NULL WHEN starts_with(f.params, '"') THEN 'VARCHAR' WHEN f.params = 'null' THEN 'NULL' WHEN starts_with(f.params, '[') THEN 'ARRAY' ELSE 'OTHER' END AS params_kind,
        -- each entry read once: a name that is a text, and its value (an entry that is not an object has neither)
        CASE WHEN starts_with(f.params, '[') THEN list_transform(
            json_transform(f.params, '[{"name": "JSON", "value": "JSON"}]'),
            lambda e: {'name': CASE WHEN starts_with(e.name, '"') THEN e.name ->> '$' END, 'value': e.value}
        ) END AS entries
    FROM read
),

entries AS (
    SELECT
        *,
        list_transform(entries, lambda e: coalesce(trim(e.name) <> '', false)) AS named,
        list_transform(entries, lambda e: {
            'name': e.name,
            'key': lower(trim(e.name)),
            'value': e.value,
            'id_type': ($id_name_types::VARCHAR[])[list_position($id_names::VARCHAR[], lower(trim(e.name)))]
        }) AS params
    FROM fields
),

params AS (  -- a value given as JSON text, of a parameter that holds data (items, products ...), parsed once
    SELECT
        * EXCLUDE (params),
        coalesce(list_position(named, false), 0) AS bad_entry,
        list_transform(params, lambda p: {
            'name': p.name,
            'key': p.key,
            'value': p.value,
            'id_type': p.id_type,
            'text': CASE WHEN list_contains($parsed_names::VARCHAR[], p.key) AND starts_with(p.value, '"')
                AND regexp_matches(p.value ->> '$', '^\s*[\[{]') THEN p.value ->> '$' END
        }) AS params
    FROM entries
),

values AS (
    SELECT
        * EXCLUDE (params),
        list_transform(params, lambda p: {
            'name': p.name,
            'key': p.key,
            -- a malformed text kept as given (for its reject's message: the event is rejected)
            'value': CASE WHEN p.text IS NULL THEN p.value WHEN json_valid(p.text) THEN json(p.text) ELSE p.value END,
            'id_type': p.id_type,
            'malformed': p.text IS NOT NULL AND NOT json_valid(p.text),
            -- in a record that may hold what DuckDB's parser takes and JSON has not: checked strictly (the plan)
            'text': CASE WHEN suspect_record THEN p.text END
        }) AS params
    FROM params
),

checked AS (
    SELECT
        *,
        list_filter(params, lambda p: p.malformed)[1] AS malformed,
        CASE WHEN suspect_record THEN
            list_transform(list_filter(params, lambda p: p.text IS NOT NULL), lambda p: {'name': p.name, 'text': p.text})
        END AS suspect_texts,
        list_filter(
            list_transform(params, lambda p: p.key), lambda k, i: list_position(list_transform(params, lambda p: p.key), k) < i
        )[1] AS repeated_param,
        list_transform(
            $id_types::VARCHAR[],
            lambda t: list_filter(
                params, lambda p: p.id_type = t
            )[1].value ->> '$'
        ) AS param_ids
    FROM values
),

orders AS (
    SELECT
        *,
        list_contains($order_types::VARCHAR[], event_type) AS order_event,
        CASE WHEN list_contains($order_types::VARCHAR[], event_type) THEN
            map_from_entries(list_transform(list_filter(params, lambda p: p.key IN (
                'externalorderid', 'externalcustomerid', 'totalcost', 'status', 'date', 'currency', 'items'
            )), lambda p: {'k': p.key, 'v': p.value}))
        END AS o
    FROM checked
)

SELECT
    _line::UINTEGER AS _line,
    (record_offsets.first_row + _element)::UINTEGER AS _row,
    record_offsets.hash_hi::UBIGINT AS hash_hi,
    xor(record_offsets.hash_lo::UBIGINT, _element::UBIGINT) AS hash_lo,
    _record::UINTEGER AS _record,
    _offset::UBIGINT AS _offset,
    raw,
    in_body AS es_in_body,
    type_kind AS es_type_kind,
    event_type AS es_type,
    key_kind AS es_key_kind,
    key_value AS es_key,
    occurred_kind AS es_occurred_kind,
    occurred AS es_occurred,
    params_kind AS es_params_kind,
    bad_entry AS es_bad_entry,
    malformed.name AS es_malformed_param,
    malformed.value ->> '$' AS es_malformed_text,
    suspect_texts AS es_suspect_texts,
    repeated_param AS es_repeated_param,
    param_ids AS es_param_ids,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['externalorderid'] ->> '$' END AS es_order_id,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['externalcustomerid'] ->> '$' END AS es_customer_id,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['totalcost'] ->> '$' END AS es_total,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['status'] ->> '$' END AS es_status,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['date'] ->> '$' END AS es_date,
    CASE WHEN order_event AND repeated_param IS NULL THEN o['currency'] ->> '$' END AS es_currency,
    CASE WHEN order_event AND repeated_param IS NULL THEN json_type(o['items']) END AS es_items_kind,
    CASE WHEN order_event AND repeated_param IS NULL AND json_type(o['items']) = 'ARRAY' THEN
        to_json(list_transform(json_extract(o['items'], '$[*]'), lambda i: {
            'product_id': i ->> '$.externalItemId',
            'name': i ->> '$.name',
            'category': i ->> '$.category',
            'quantity': i ->> '$.quantity',
            'price': i ->> '$.cost',
            'url': i ->> '$.url',
            'image_url': i ->> '$.imageUrl',
            'description': i ->> '$.description'
        }))::VARCHAR
    END AS es_items,
    -- the event as stored: its fields, and its parameters as an object of their values (JSON types kept)
    CASE WHEN params_kind IS NULL OR (params_kind = 'ARRAY' AND bad_entry = 0 AND repeated_param IS NULL
        AND malformed IS NULL) THEN
        json_object(
            'eventTypeKey', event_type, 'keyValue', key_value, 'occurred', occurred,
            'params', json('{' || array_to_string(list_transform(
                coalesce(params, []), lambda p: to_json(p.name) || ':' || coalesce(p.value::VARCHAR, 'null')
            ), ',') || '}')
        )::VARCHAR
    END AS properties
FROM orders
JOIN record_offsets USING (_record)
