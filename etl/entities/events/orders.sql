-- The orders that an import's order events make or change (a format with feeds_orders: eSputnik's orderCreated,
-- orderUpdated, orderDelivered, orderCancelled), staged as an order import stages its rows, so that the orders
-- entity merges them as it merges any order import's.
-- Grain in: stg_event_records (the added records: a record the store or the import holds already changes
-- nothing), stg_rows (order_action, order_id, order_status, order_total, order_currency, order_created_at,
-- order_lines; ids; etl.formats.events), orders, line_items (the store's).
-- Grain out: stg_order_actions, one per new order event (upsert: the fields it gives replace the order's; status:
-- its status alone); stg_ignored_order_events, one per order event that cannot change an order (an order the
-- store does not hold and the import does not make: a status event, or an upsert without totalCost, status and
-- date), with the reason; stg_event_order_rows, one per line item of each order changed (its fields folded in
-- the events' order: the last given wins, the store's kept where no event gives one; an order without items:
-- one row without a line, _line_no null), in the columns of an order format's rows (etl.formats.rows), placed
-- at the order's last event (_file, _row, _seq).
-- Parameters: $started_at (the time of an event without one), $id_types (the type of each value of ids),
-- $default_currency (an order's currency when no event gives one and the store has none; null: none).

CREATE OR REPLACE TEMP TABLE stg_order_actions AS
SELECT
    r._seq, r._file, r._row, r.order_id, r.order_action AS action,
    {'happened': coalesce(r.occurred_at, $started_at::TIMESTAMPTZ), 'seq': r._seq} AS place,
    coalesce(r.occurred_at, $started_at::TIMESTAMPTZ) AS happened,
    r.order_status AS status, r.order_total AS total, r.order_currency AS currency,
    r.order_created_at AS created_at, r.order_lines AS lines,
    ($id_types::VARCHAR[])[list_position(list_transform(r.ids, lambda v: v IS NOT NULL), true)] AS user_id_type,
    r.ids[list_position(list_transform(r.ids, lambda v: v IS NOT NULL), true)] AS user_id
FROM stg_rows AS r
SEMI JOIN stg_event_records AS e ON e._seq = r._seq AND e.change = 'added'
WHERE r.order_action IS NOT NULL;

CREATE OR REPLACE TEMP TABLE stg_ignored_order_events AS
WITH stored AS (
    SELECT order_id FROM orders SEMI JOIN stg_order_actions USING (order_id)
),

made AS (  -- orders this import makes: an upsert gives every field an order needs (a currency, or the default)
    SELECT DISTINCT order_id FROM stg_order_actions
    WHERE action = 'upsert' AND total IS NOT NULL AND status IS NOT NULL AND created_at IS NOT NULL
      AND coalesce(currency, $default_currency::VARCHAR) IS NOT NULL
)

SELECT
    a._seq, a._file, a._row, a.order_id,
    CASE
        WHEN a.action = 'status' THEN
            'the store holds no order ' || a.order_id || ' and the import makes none: the event is ignored'
        WHEN a.total IS NOT NULL AND a.status IS NOT NULL AND a.created_at IS NOT NULL THEN
            'the order ' || a.order_id || ' has no currency, and the spec no default_currency '
            || '(options: {default_currency: UAH}): the event is ignored'
        ELSE 'the store holds no order ' || a.order_id || ': to make it, the event needs totalCost, status and date '
            || '(as orderCreated does); the event is ignored'
    END AS hint,
    CASE WHEN a.action = 'upsert' AND a.total IS NOT NULL AND a.status IS NOT NULL AND a.created_at IS NOT NULL
        THEN 'currency' ELSE 'externalOrderId' END AS "column"
FROM stg_order_actions AS a
ANTI JOIN stored USING (order_id)
ANTI JOIN made USING (order_id);

DELETE FROM stg_order_actions WHERE _seq IN (SELECT _seq FROM stg_ignored_order_events);

CREATE OR REPLACE TEMP TABLE stg_event_order_rows AS
WITH stored_orders AS (
    SELECT * FROM orders SEMI JOIN stg_order_actions USING (order_id)
),

stored_lines AS (
    SELECT * FROM line_items SEMI JOIN stg_order_actions USING (order_id)
),

stored_status AS (  -- an order's status: its first line's, else (an order without lines) its custom field's
    SELECT o.order_id, coalesce(arg_min(l.status, l.line_no), o.custom_fields ->> '$.order_status') AS status,
        count(l.line_no) AS stored_lines
    FROM stored_orders AS o
    LEFT JOIN stored_lines AS l USING (order_id)
    GROUP BY o.order_id, o.custom_fields
),

folded AS (
    SELECT
        order_id,
        arg_max(_seq, place) AS _seq,
        arg_max(_file, place) AS _file,
        arg_max(_row, place) AS _row,
        count(*) AS actions,
        max(happened) AS last_at,
        -- the buyer: the contact of the order's first event (its creation), see stg_order_buyer_kept
        arg_min(user_id_type, place) FILTER (WHERE action = 'upsert' AND user_id IS NOT NULL) AS user_id_type,
        arg_min(user_id, place) FILTER (WHERE action = 'upsert' AND user_id IS NOT NULL) AS user_id,
        arg_max(currency, place) FILTER (WHERE action = 'upsert' AND currency IS NOT NULL) AS currency,
        arg_max(total, place) FILTER (WHERE action = 'upsert' AND total IS NOT NULL) AS total,
        arg_max(created_at, place) FILTER (WHERE action = 'upsert' AND created_at IS NOT NULL) AS created_at,
        arg_max(lines, place) FILTER (WHERE action = 'upsert' AND lines IS NOT NULL) AS lines,
        arg_max(status, place) FILTER (WHERE status IS NOT NULL) AS status
    FROM stg_order_actions
    GROUP BY order_id
),

orders_now AS (
    SELECT
        f.order_id, f._seq, f._file, f._row, f.lines,
        -- an order keeps its buyer: an event naming another contact does not move it (stg_order_buyer_kept)
        CASE WHEN s.user_id IS NOT NULL THEN s.user_id_type ELSE f.user_id_type END AS user_id_type,
        coalesce(s.user_id, f.user_id) AS user_id,
        coalesce(f.currency, s.currency, $default_currency::VARCHAR) AS currency,
        coalesce(f.total, s.total) AS total,
        coalesce(f.created_at, s.created_at) AS created_at,
        -- changed after it was made: by an event of an order stored before, or a second event of this import's
        CASE WHEN s.order_id IS NOT NULL OR f.actions > 1 THEN f.last_at END AS last_updated,
        coalesce(f.status, st.status) AS status,
        -- what eSputnik's events do not carry, kept as stored (an order a Kevel or Shopify import made)
        s.subtotal, s.tax, s.shipping, s.discount, s.refund, s.payment_method, s.shipping_method, s.shipping_country,
        s.source, s.promotions,
        -- the line items hold an order's status: an order without lines (items are optional) keeps it here
        CASE WHEN f.lines IS NULL AND coalesce(st.stored_lines, 0) = 0
            THEN json_merge_patch(coalesce(s.custom_fields, '{}'), json_object('order_status', coalesce(f.status, st.status)))
            WHEN s.custom_fields ->> '$.order_status' IS NOT NULL
            THEN nullif(json_merge_patch(s.custom_fields, '{"order_status": null}')::VARCHAR, '{}')
            ELSE s.custom_fields
        END::VARCHAR AS custom_fields
    FROM folded AS f
    LEFT JOIN stored_orders AS s USING (order_id)
    LEFT JOIN stored_status AS st USING (order_id)
),

given_lines AS (  -- the lines the last event with items gave
    SELECT
        o.order_id,
        unnest(range(1, len(l.list) + 1)) AS line_no,
        unnest(l.list) AS line
    FROM orders_now AS o,
        LATERAL (SELECT json_transform(o.lines, '[{"product_id": "VARCHAR", "name": "VARCHAR", "category": "VARCHAR",
            "quantity": "VARCHAR", "price": "VARCHAR", "url": "VARCHAR", "image_url": "VARCHAR",
            "description": "VARCHAR"}]') AS list) AS l
    WHERE o.lines IS NOT NULL
),

lines AS (
    SELECT
        g.order_id, g.line_no::INTEGER AS line_no, NULL::VARCHAR AS line_item_id, g.line.product_id,
        NULL::VARCHAR AS item_group_id, g.line.name, NULL::VARCHAR AS sku, NULL::VARCHAR AS brand, g.line.category,
        NULL::VARCHAR[] AS categories, o.currency AS line_currency,
        TRY_CAST(g.line.price AS DOUBLE) * coalesce(TRY_CAST(g.line.quantity AS DOUBLE), 1) AS line_total,
        NULL::DOUBLE AS line_subtotal, NULL::DOUBLE AS line_tax, NULL::DOUBLE AS line_shipping,
        NULL::DOUBLE AS line_discount, NULL::DOUBLE AS line_refund, TRY_CAST(g.line.quantity AS DOUBLE) AS quantity,
        NULL::VARCHAR[] AS line_promotions, NULL::BOOLEAN AS adult, NULL::BIGINT AS subscription_duration_ms,
        NULL::VARCHAR AS size, NULL::VARCHAR AS size_system, o.status,
        nullif(json_object('url', g.line.url, 'image_url', g.line.image_url, 'description', g.line.description)::VARCHAR,
            '{"url":null,"image_url":null,"description":null}') AS line_custom_fields
    FROM given_lines AS g
    JOIN orders_now AS o USING (order_id)
    UNION ALL
    SELECT  -- no event gave items: the stored ones, in the order's status now
        l.order_id, l.line_no, l.line_item_id, l.product_id, l.item_group_id, l.name, l.sku, l.brand, l.category,
        l.categories, l.currency, l.total, l.subtotal, l.tax, l.shipping, l.discount, l.refund, l.quantity,
        l.promotions, l.adult, l.subscription_duration_ms, l.size, l.size_system, o.status,
        l.custom_fields::VARCHAR
    FROM stored_lines AS l
    JOIN orders_now AS o USING (order_id)
    WHERE o.lines IS NULL
),

rows AS (
    SELECT o.* EXCLUDE (lines), l.* EXCLUDE (order_id, status)
    FROM orders_now AS o
    LEFT JOIN lines AS l USING (order_id)
)

SELECT
    _file::UINTEGER AS _file, _row::UINTEGER AS _row, _seq::UBIGINT AS _seq,
    coalesce(line_no, 1) = min(coalesce(line_no, 1)) OVER (PARTITION BY order_id) AS _first,
    line_no AS _line_no,
    order_id, user_id_type, user_id, currency, total, subtotal, tax, shipping, discount, refund, payment_method,
    shipping_method, shipping_country, source, promotions, created_at, last_updated, custom_fields,
    line_item_id, product_id, item_group_id, name, sku, brand, category, categories, line_currency, line_total,
    line_subtotal, line_tax, line_shipping, line_discount, line_refund, quantity, line_promotions, adult,
    subscription_duration_ms, size, size_system, status, line_custom_fields,
    hash(order_id, line_no, _seq)::UBIGINT AS hash_hi, hash(line_no, order_id, _seq)::UBIGINT AS hash_lo
FROM rows;

-- The order events that name another contact than their order's buyer (who made it: the store's buyer, else the
-- contact of the import's first event of the order), unless the store knows both ids as one person's: the order
-- keeps its buyer (an order is one person's purchase; the event is stored on the contact it names), and the
-- report counts them (orders_buyer_kept) with examples.
CREATE OR REPLACE TEMP TABLE stg_order_buyer_kept AS
SELECT a.order_id, o.user_id_type AS buyer_type, o.user_id AS buyer, a.user_id_type AS named_type, a.user_id AS named
FROM stg_order_actions AS a
JOIN (SELECT DISTINCT order_id, user_id_type, user_id FROM stg_event_order_rows) AS o USING (order_id)
WHERE a.user_id IS NOT NULL AND o.user_id IS NOT NULL
    AND (a.user_id_type, a.user_id) IS DISTINCT FROM (o.user_id_type, o.user_id)
    AND NOT EXISTS (
        SELECT 1 FROM identities AS named
        JOIN identities AS buyer ON buyer.customer_id = named.customer_id
        WHERE named.id_type = a.user_id_type AND named.id_value = a.user_id
            AND buyer.id_type = o.user_id_type AND buyer.id_value = o.user_id
    );
