-- `etl export esputnik-events`: the store's imported events as eSputnik's past events, in bodies of at most
-- $per_body events ({"events": [...]}: Generate past events), in event order.
-- Grain in: events (those imported: the store's own orderPlace and orderUpdate, made from orders, have no
-- properties and are left out). Grain out: one row per body: body (its number, from 0), text (minified JSON).
-- An event of esputnik_events is written as it was read (eventTypeKey, keyValue, params in their order, occurred
-- as given); another format's with its properties as params, after the parameter that names its person.
-- occurred: in a form 003 lists (YYYY-MM-DD, YYYY-MM-DDTHH:mm): as given when it is one, else the stored time in
-- UTC, YYYY-MM-DDTHH:mm (its seconds dropped: the export counts the events that had some).
-- Parameters: $per_body.

WITH events AS (
    SELECT event_id, event_type, occurred_at, format, user_id_type, user_id, properties
    FROM main.events
    WHERE properties IS NOT NULL
),

shaped AS (
    SELECT
        event_id,
        event_type,
        CASE WHEN format = 'esputnik_events' THEN properties ->> '$.keyValue' ELSE user_id END AS key_value,
        CASE WHEN format = 'esputnik_events' THEN properties -> '$.params' ELSE properties END AS given,
        CASE WHEN format <> 'esputnik_events' AND user_id IS NOT NULL THEN
            CASE user_id_type WHEN 'email' THEN 'email' WHEN 'phone' THEN 'phone'
                WHEN 'external_id' THEN 'externalCustomerId' WHEN 'esputnik_contact_id' THEN 'ContactId'
                WHEN 'push_token' THEN 'PushToken' WHEN 'contact_key' THEN 'ContactKey' ELSE user_id_type END
        END AS person_param,
        user_id,
        -- 003's forms only (what eSputnik takes): as given when it is one (the event read again is the same
        -- event), else the stored time in UTC to the minute (seconds dropped: 003 has no form for them)
        CASE WHEN format = 'esputnik_events'
                AND regexp_full_match(properties ->> '$.occurred', '\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?')
            THEN properties ->> '$.occurred'
            ELSE strftime(occurred_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M')
        END AS occurred
    FROM events
),

written AS (
    SELECT
        event_id,
        '{"eventTypeKey":' || to_json(event_type)
        || CASE WHEN key_value IS NOT NULL THEN ',"keyValue":' || to_json(key_value) ELSE '' END
        || ',"params":[' || array_to_string(
            CASE WHEN person_param IS NOT NULL THEN [json_object('name', person_param, 'value', user_id)::VARCHAR]
                ELSE [] END
            || list_transform(
                map_entries(json_transform(coalesce(given, '{}'), '"MAP(VARCHAR, JSON)"')),
                lambda e: '{"name":' || to_json(e.key) || ',"value":' || coalesce(e.value::VARCHAR, 'null') || '}'
            ), ','
        ) || ']'
        || ',"occurred":' || to_json(occurred) || '}' AS text
    FROM shaped
),

numbered AS (
    SELECT event_id, text, (row_number() OVER (ORDER BY event_id) - 1) // $per_body AS body FROM written
)

SELECT body, '{"events":[' || string_agg(text, ',' ORDER BY event_id) || ']}' AS text
FROM numbered
GROUP BY body
ORDER BY body
