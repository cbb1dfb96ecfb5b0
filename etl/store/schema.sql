-- The customer store. One DuckDB file; every table and column is documented here
-- (COMMENT ON, so `SELECT * FROM duckdb_columns()` shows it) and in the README.
-- No PRIMARY KEY constraints: DuckDB's index would slow bulk merges and hold memory;
-- the merge keeps order_id unique in orders and (order_id, line_no) in line_items.

CREATE TABLE IF NOT EXISTS imports (
    import_id    BIGINT,
    status       VARCHAR,
    dry_run      BOOLEAN,
    format       VARCHAR,
    sources      VARCHAR[],
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    items        BIGINT,
    valid        BIGINT,
    rejected     BIGINT,
    error        VARCHAR,
    report       JSON
);
COMMENT ON TABLE imports IS 'One row per import run (dry runs too): its status and its report.';
COMMENT ON COLUMN imports.import_id IS 'Number of the run, increasing; etl report IMPORT_ID shows it again.';
COMMENT ON COLUMN imports.status IS 'completed, failed or cancelled (queued and in_progress are never committed: an import is one transaction); marked_failed: stored, but the inbox found its zip breaking the event feed''s rule (the file is left in place).';
COMMENT ON COLUMN imports.dry_run IS 'True for a dry run: nothing else was stored.';
COMMENT ON COLUMN imports.format IS 'Input format, e.g. kevel_orders.';
COMMENT ON COLUMN imports.sources IS 'The files read, as URIs without credentials.';
COMMENT ON COLUMN imports.started_at IS 'When the run started (UTC).';
COMMENT ON COLUMN imports.finished_at IS 'When the run ended (UTC).';
COMMENT ON COLUMN imports.items IS 'Rows read from the files (blank lines excluded); items = valid + rejected.';
COMMENT ON COLUMN imports.valid IS 'Rows that passed every rule and are stored as line items.';
COMMENT ON COLUMN imports.rejected IS 'Rows stored in rejects instead.';
COMMENT ON COLUMN imports.error IS 'Why a failed run failed.';
COMMENT ON COLUMN imports.report IS 'The full report as printed by etl import --json.';

CREATE TABLE IF NOT EXISTS store_meta (
    key    VARCHAR,
    value  VARCHAR
);
COMMENT ON TABLE store_meta IS 'Facts about the store itself, one row per key.';
COMMENT ON COLUMN store_meta.key IS 'order_facts_of: the row counts of orders and line_items (orders:line_items) that order_facts was computed from; email_hashes_linked: the stored emails have their email_sha256 identities (an upgrade of older stores).';
COMMENT ON COLUMN store_meta.value IS 'The value.';

CREATE TABLE IF NOT EXISTS orders (
    order_id          VARCHAR,
    customer_id       BIGINT,
    user_id_type      VARCHAR,
    user_id           VARCHAR,
    currency          VARCHAR,
    total             DOUBLE,
    subtotal          DOUBLE,
    tax               DOUBLE,
    shipping          DOUBLE,
    discount          DOUBLE,
    refund            DOUBLE,
    payment_method    VARCHAR,
    shipping_method   VARCHAR,
    shipping_country  VARCHAR,
    source            VARCHAR,
    promotions        VARCHAR[],
    created_at        TIMESTAMPTZ,
    last_updated      TIMESTAMPTZ,
    custom_fields     JSON,
    first_import_id   BIGINT,
    last_import_id    BIGINT
);
COMMENT ON TABLE orders IS 'One row per order (order_id unique), as last imported.';
COMMENT ON COLUMN orders.order_id IS 'Order identifier (Kevel: orderId; Shopify: Name or Id).';
COMMENT ON COLUMN orders.customer_id IS 'The buyer: customers.customer_id, resolved from user_id_type and user_id through the identity graph (and moved with them when people are merged); null for an order without a buyer (a Shopify order without email or phone), which no segment counts.';
COMMENT ON COLUMN orders.user_id_type IS 'Type of user_id (userIdType).';
COMMENT ON COLUMN orders.user_id IS 'The buyer''s identifier (userId; Shopify: Email, else Phone); null when the order has no buyer.';
COMMENT ON COLUMN orders.currency IS 'ISO 4217 code of the monetary values.';
COMMENT ON COLUMN orders.total IS 'Order total, discounts applied, tax and shipping included: total = subtotal + tax + shipping (specification 002; eSputnik: totalCost).';
COMMENT ON COLUMN orders.subtotal IS 'Order value after discounts, without tax and shipping (002: subtotal = total - tax - shipping; Shopify: Total - Taxes - Shipping); null when the source does not give it (eSputnik).';
COMMENT ON COLUMN orders.tax IS 'Tax of the order.';
COMMENT ON COLUMN orders.shipping IS 'Shipping costs of the order.';
COMMENT ON COLUMN orders.discount IS 'Total discount of the order, informational: already deducted in subtotal and total.';
COMMENT ON COLUMN orders.refund IS 'Total refunded.';
COMMENT ON COLUMN orders.payment_method IS 'Payment method, e.g. Visa.';
COMMENT ON COLUMN orders.shipping_method IS 'Shipping method, e.g. UPS.';
COMMENT ON COLUMN orders.shipping_country IS 'Destination country as given.';
COMMENT ON COLUMN orders.source IS 'Where the order was placed: web, phone, POS ...';
COMMENT ON COLUMN orders.promotions IS 'Vouchers applied (promotions split on semicolons).';
COMMENT ON COLUMN orders.created_at IS 'When the order was created, UTC.';
COMMENT ON COLUMN orders.last_updated IS 'When the order was last updated, UTC.';
COMMENT ON COLUMN orders.custom_fields IS 'What the format keeps beyond the columns above, as a JSON object: kevel_orders'' custom_<name> columns {name: value} (custom_fields->>''color''); every other column of a Shopify export (custom_fields->>''shipping_city'').';
COMMENT ON COLUMN orders.first_import_id IS 'The import that added the order.';
COMMENT ON COLUMN orders.last_import_id IS 'The import that last added or changed it.';

CREATE TABLE IF NOT EXISTS line_items (
    order_id                  VARCHAR,
    line_no                   INTEGER,
    line_item_id              VARCHAR,
    product_id                VARCHAR,
    item_group_id             VARCHAR,
    name                      VARCHAR,
    sku                       VARCHAR,
    brand                     VARCHAR,
    category                  VARCHAR,
    categories                VARCHAR[],
    currency                  VARCHAR,
    total                     DOUBLE,
    subtotal                  DOUBLE,
    tax                       DOUBLE,
    shipping                  DOUBLE,
    discount                  DOUBLE,
    refund                    DOUBLE,
    quantity                  DOUBLE,
    promotions                VARCHAR[],
    adult                     BOOLEAN,
    subscription_duration_ms  BIGINT,
    size                      VARCHAR,
    size_system               VARCHAR,
    status                    VARCHAR,
    last_import_id            BIGINT
);
COMMENT ON TABLE line_items IS 'One row per line item; (order_id, line_no) unique.';
COMMENT ON COLUMN line_items.order_id IS 'The order (orders.order_id).';
COMMENT ON COLUMN line_items.line_no IS 'Position in the order, 1 for its first row in the file (a blank line inside an order leaves a gap).';
COMMENT ON COLUMN line_items.line_item_id IS 'lineItem_id as given (optional).';
COMMENT ON COLUMN line_items.product_id IS 'Product identifier.';
COMMENT ON COLUMN line_items.item_group_id IS 'Group of product variants.';
COMMENT ON COLUMN line_items.name IS 'Product name.';
COMMENT ON COLUMN line_items.sku IS 'Product SKU.';
COMMENT ON COLUMN line_items.brand IS 'Product brand.';
COMMENT ON COLUMN line_items.category IS 'Product category as one string.';
COMMENT ON COLUMN line_items.categories IS 'Category path, most general first (split on semicolons).';
COMMENT ON COLUMN line_items.currency IS 'ISO 4217 code of the line''s monetary values.';
COMMENT ON COLUMN line_items.total IS 'Line total, discounts applied, tax and shipping included: total = subtotal + tax + shipping (a null tax or shipping counts as 0).';
COMMENT ON COLUMN line_items.subtotal IS 'Line value after its discount, without tax and shipping (Shopify: price x quantity - Lineitem discount); null when the source does not give it (eSputnik).';
COMMENT ON COLUMN line_items.tax IS 'Tax of the line.';
COMMENT ON COLUMN line_items.shipping IS 'Shipping of the line.';
COMMENT ON COLUMN line_items.discount IS 'Discount of the line, informational: already deducted in subtotal and total.';
COMMENT ON COLUMN line_items.refund IS 'Refunded on the line.';
COMMENT ON COLUMN line_items.quantity IS 'Quantity purchased.';
COMMENT ON COLUMN line_items.promotions IS 'Vouchers applied to or shown with the product.';
COMMENT ON COLUMN line_items.adult IS 'Sexually suggestive content (false when not given).';
COMMENT ON COLUMN line_items.subscription_duration_ms IS 'Subscription duration in milliseconds.';
COMMENT ON COLUMN line_items.size IS 'Product size.';
COMMENT ON COLUMN line_items.size_system IS 'Country of the size system.';
COMMENT ON COLUMN line_items.status IS 'placed, paid, fulfilled, refunded or cancelled.';
COMMENT ON COLUMN line_items.last_import_id IS 'The import that last stored the line.';
-- added after the first stores were written: last, in new stores too, so that every store has one column order
ALTER TABLE line_items ADD COLUMN IF NOT EXISTS custom_fields JSON;
COMMENT ON COLUMN line_items.custom_fields IS 'What the format keeps of the line beyond the columns above, as a JSON object (shopify_orders: price, compare_at_price, requires_shipping, taxable, fulfillment_status); null when none.';

CREATE TABLE IF NOT EXISTS order_row_hashes (
    row_hash  UHUGEINT,
    order_id  VARCHAR
);
COMMENT ON TABLE order_row_hashes IS 'One row per line item stored from a file: the hash of the row it was read from, so that the next import of the same rows finds its orders unchanged without parsing or comparing them (rows.run_hashes). Rewritten whenever an import reads the order; not for analysis.';
COMMENT ON COLUMN order_row_hashes.row_hash IS 'A 128-bit hash of the row as read (after the spec''s transforms), its position in the order and the order''s first row, salted with the format, its options and the file''s fields.';
COMMENT ON COLUMN order_row_hashes.order_id IS 'The order (orders.order_id).';

CREATE TABLE IF NOT EXISTS events (
    event_id     BIGINT,
    event_type   VARCHAR,
    order_id     VARCHAR,
    customer_id  BIGINT,
    occurred_at  TIMESTAMPTZ,
    import_id    BIGINT
);
COMMENT ON COLUMN events.event_id IS 'Increasing number.';
COMMENT ON COLUMN events.customer_id IS 'The person the event is about (customers.customer_id).';
COMMENT ON COLUMN events.import_id IS 'The import that generated it.';
-- added for event imports (etl.entities.events.entity): last, in new stores too, so that every store has one column order
ALTER TABLE events ADD COLUMN IF NOT EXISTS format VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS business_unit VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS user_id_type VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS user_id VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS properties JSON;
ALTER TABLE events ADD COLUMN IF NOT EXISTS event_key UHUGEINT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS record_hash UHUGEINT;
COMMENT ON TABLE events IS 'Every event, one row each: imported from event feeds (crossengage_events, esputnik_events), and generated by order imports and order events (orderPlace for a new order, orderUpdate for a changed one).';
COMMENT ON COLUMN events.event_type IS 'The event''s name as its feed gives it (e.g. cartUpdated, Subscribed Newsletter); orderPlace or orderUpdate for the events of order imports.';
COMMENT ON COLUMN events.order_id IS 'The order, for the events of order imports; null for the others.';
COMMENT ON COLUMN events.occurred_at IS 'When it happened (UTC). Imported: the feed''s time, or the import''s start when it gives none. orderPlace: the order''s created_at; orderUpdate: its last_updated, or the import''s start when not given.';
COMMENT ON COLUMN events.format IS 'The format of the import that stored it (crossengage_events, kevel_orders ...); null for order events stored before this column.';
COMMENT ON COLUMN events.business_unit IS 'The business unit the event names (CrossEngage''s businessUnit), or null.';
COMMENT ON COLUMN events.user_id_type IS 'The type of the id the event named its person by (the first its format names: CrossEngage''s external_id, then email; eSputnik''s contact id, email, phone, push token, contact key, external_id): the person follows that id when the identity graph moves it. Null for order events (they follow their order).';
COMMENT ON COLUMN events.user_id IS 'That id''s value, as every id is stored: trimmed, an email lowercased, other ids in their case (etl/formats/ids.py). The event''s customer_id is the customer this id belongs to.';
COMMENT ON COLUMN events.properties IS 'The imported event as given, a JSON object with every field and its JSON type (query as properties->>''field''; eSputnik''s: {eventTypeKey, keyValue, occurred, params: {name: value}}); null for the store''s own orderPlace and orderUpdate.';
COMMENT ON COLUMN events.event_key IS 'The event''s identity: a 128-bit hash of its whole content (type, person, time and every property, as minified JSON, with the format). An event with a key the store holds is not stored again: a re-import adds nothing.';
COMMENT ON COLUMN events.record_hash IS 'A 128-bit hash of the record as read (its text, the format and its options): the next import of the same record skips it without parsing it. Not for analysis.';

CREATE TABLE IF NOT EXISTS event_items (
    event_id    BIGINT,
    position    INTEGER,
    product_id  VARCHAR,
    sku         VARCHAR,
    name        VARCHAR,
    category    VARCHAR,
    quantity    DOUBLE,
    price       DOUBLE,
    currency    VARCHAR,
    attributes  JSON,
    import_id   BIGINT
);
COMMENT ON TABLE event_items IS 'The items an imported event carries (a cart''s products, a viewed product), one row each, so that segments need no JSON.';
COMMENT ON COLUMN event_items.event_id IS 'The event (events.event_id).';
COMMENT ON COLUMN event_items.position IS 'Its place among the event''s items, from 1.';
COMMENT ON COLUMN event_items.product_id IS 'The product (products.product_id): the item''s product_id, productId or id, the first given.';
COMMENT ON COLUMN event_items.sku IS 'Its SKU, as given.';
COMMENT ON COLUMN event_items.name IS 'Its name, as given.';
COMMENT ON COLUMN event_items.category IS 'Its category, as given.';
COMMENT ON COLUMN event_items.quantity IS 'How many; null when not given or not a number.';
COMMENT ON COLUMN event_items.price IS 'Its unit price; null when not given or not a number.';
COMMENT ON COLUMN event_items.currency IS 'The price''s currency: the item''s, else its cart''s.';
COMMENT ON COLUMN event_items.attributes IS 'The item as given, a JSON object with every field.';
COMMENT ON COLUMN event_items.import_id IS 'The import that stored it (its event''s).';

-- `etl events delete` keeps what it deleted here, so that `etl events restore` puts it back exactly
CREATE TABLE IF NOT EXISTS deleted_events AS SELECT *, NULL::BIGINT AS deleted_by FROM events LIMIT 0;
COMMENT ON TABLE deleted_events IS 'Events that `etl events delete` removed, as they were in events (every column of events), until `etl events restore` puts them back; not for analysis.';
COMMENT ON COLUMN deleted_events.deleted_by IS 'The delete run (imports.import_id, format events delete).';
CREATE TABLE IF NOT EXISTS deleted_event_items AS SELECT *, NULL::BIGINT AS deleted_by FROM event_items LIMIT 0;
COMMENT ON TABLE deleted_event_items IS 'The items of deleted_events, as they were in event_items (every column of event_items).';
COMMENT ON COLUMN deleted_event_items.deleted_by IS 'The delete run (imports.import_id).';

CREATE TABLE IF NOT EXISTS rejects (
    import_id  BIGINT,
    source     VARCHAR,
    line       BIGINT,
    record     BIGINT,
    raw        JSON,
    reasons    STRUCT("column" VARCHAR, hint VARCHAR, "value" VARCHAR)[]
);
COMMENT ON TABLE rejects IS 'Rows that were not stored, with every reason.';
COMMENT ON COLUMN rejects.import_id IS 'The import (imports.import_id).';
COMMENT ON COLUMN rejects.source IS 'The file, as a URI without credentials.';
COMMENT ON COLUMN rejects.line IS 'Line in the file where the row starts (the header is line 1).';
COMMENT ON COLUMN rejects.record IS 'Number of the data row, 1 for the first after the header.';
COMMENT ON COLUMN rejects.raw IS 'The row''s values exactly as read, as a JSON object {column: text}.';
COMMENT ON COLUMN rejects.reasons IS 'Every rule the row broke: the column, a hint, and the value that broke it.';

-- Derived tables: kept by every import (entities/orders/apply.sql) and rebuilt whole (rebuild_order_facts.sql)
-- when orders or line items were changed outside an import. The segments read them, so that a
-- purchase costs one row, not a join of line items to orders on text ids.
CREATE TABLE IF NOT EXISTS customer_keys (
    customer_id   BIGINT,
    customer_key  BIGINT
);
COMMENT ON TABLE customer_keys IS 'Derived, kept by imports: one row per customer of orders, with a number the segments group by.';
COMMENT ON COLUMN customer_keys.customer_id IS 'The customer (orders.customer_id).';
COMMENT ON COLUMN customer_keys.customer_key IS 'A number of its own, unique, stable while the store exists.';

CREATE TABLE IF NOT EXISTS order_facts (
    order_id         VARCHAR,
    customer_key     BIGINT,
    day              DATE,
    created_at       TIMESTAMPTZ,
    placed_lines     INTEGER,
    placed_value     DOUBLE,
    paid_lines       INTEGER,
    paid_value       DOUBLE,
    fulfilled_lines  INTEGER,
    fulfilled_value  DOUBLE,
    refunded_lines   INTEGER,
    refunded_value   DOUBLE,
    cancelled_lines  INTEGER,
    cancelled_value  DOUBLE
);
COMMENT ON TABLE order_facts IS 'Derived, kept by imports: one row per order with line items, what the segments need of it.';
COMMENT ON COLUMN order_facts.order_id IS 'The order (orders.order_id).';
COMMENT ON COLUMN order_facts.customer_key IS 'Its customer (customer_keys.customer_key).';
COMMENT ON COLUMN order_facts.day IS 'The UTC day of its created_at.';
COMMENT ON COLUMN order_facts.created_at IS 'orders.created_at.';
COMMENT ON COLUMN order_facts.placed_lines IS 'How many of its line items are placed.';
COMMENT ON COLUMN order_facts.placed_value IS 'Sum of their totals (null when there are none, or every such total is null).';
COMMENT ON COLUMN order_facts.paid_lines IS 'How many of its line items are paid.';
COMMENT ON COLUMN order_facts.paid_value IS 'Sum of their totals, as placed_value.';
COMMENT ON COLUMN order_facts.fulfilled_lines IS 'How many of its line items are fulfilled.';
COMMENT ON COLUMN order_facts.fulfilled_value IS 'Sum of their totals, as placed_value.';
COMMENT ON COLUMN order_facts.refunded_lines IS 'How many of its line items are refunded.';
COMMENT ON COLUMN order_facts.refunded_value IS 'Sum of their totals, as placed_value.';
COMMENT ON COLUMN order_facts.cancelled_lines IS 'How many of its line items are cancelled.';
COMMENT ON COLUMN order_facts.cancelled_value IS 'Sum of their totals, as placed_value.';

CREATE TABLE IF NOT EXISTS products (
    product_id               VARCHAR,
    item_group_id            VARCHAR,
    name                     VARCHAR,
    description              VARCHAR,
    brand                    VARCHAR,
    category                 VARCHAR,
    categories               VARCHAR[],
    google_product_category  VARCHAR,
    price                    DOUBLE,
    sale_price               DOUBLE,
    currency                 VARCHAR,
    availability             VARCHAR,
    condition                VARCHAR,
    link                     VARCHAR,
    image_link               VARCHAR,
    gtin                     VARCHAR,
    mpn                      VARCHAR,
    color                    VARCHAR,
    size                     VARCHAR,
    attributes               JSON,
    missing_since            TIMESTAMPTZ,
    first_import_id          BIGINT,
    last_import_id           BIGINT,
    record_hash              UHUGEINT
);
COMMENT ON TABLE products IS 'The catalogue: one row per product (product_id unique), as its last product feed gave it. Order lines and events show its name, brand, category and price where their import left them empty (order_lines_enriched).';
COMMENT ON COLUMN products.product_id IS 'Product identifier (Google''s id): what line_items.product_id refers to.';
COMMENT ON COLUMN products.item_group_id IS 'The group of variants the product belongs to.';
COMMENT ON COLUMN products.name IS 'Product name (Google''s title).';
COMMENT ON COLUMN products.description IS 'Product description.';
COMMENT ON COLUMN products.brand IS 'Brand.';
COMMENT ON COLUMN products.category IS 'The shop''s category as one text (Google''s product_type), e.g. Home > Kitchen > Knives.';
COMMENT ON COLUMN products.categories IS 'That category split on >, most general first.';
COMMENT ON COLUMN products.google_product_category IS 'Google''s product category, its id or path as given.';
COMMENT ON COLUMN products.price IS 'Price, in currency.';
COMMENT ON COLUMN products.sale_price IS 'Sale price, in currency.';
COMMENT ON COLUMN products.currency IS 'ISO 4217 code of price and sale_price.';
COMMENT ON COLUMN products.availability IS 'in_stock, out_of_stock, preorder or backorder; out_of_stock too when a full feed (missing: unavailable) no longer lists it.';
COMMENT ON COLUMN products.condition IS 'new, refurbished or used.';
COMMENT ON COLUMN products.link IS 'The product''s page.';
COMMENT ON COLUMN products.image_link IS 'Its main image.';
COMMENT ON COLUMN products.gtin IS 'Global Trade Item Number.';
COMMENT ON COLUMN products.mpn IS 'Manufacturer part number.';
COMMENT ON COLUMN products.color IS 'Colour.';
COMMENT ON COLUMN products.size IS 'Size.';
COMMENT ON COLUMN products.attributes IS 'Every other field of the feed, as a JSON object (attributes->>''custom_label_0''); JSON lines keep their types.';
COMMENT ON COLUMN products.missing_since IS 'When a full feed (missing: unavailable) first no longer listed it; null while the feeds list it.';
COMMENT ON COLUMN products.first_import_id IS 'The import that added the product.';
COMMENT ON COLUMN products.last_import_id IS 'The import that last added or changed it (or marked it unavailable).';
COMMENT ON COLUMN products.record_hash IS 'A 128-bit hash of the feed record it was last stored from, so that the next import of the same record finds it unchanged without parsing it; null once the store changed the product otherwise. Not for analysis.';
