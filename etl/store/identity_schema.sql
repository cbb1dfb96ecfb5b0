-- The identity graph: who is who, for every entity whose records name a person.
-- Grain: customers, one row per person; identities, one per (id_type, business_unit, id_value), each
-- belonging to exactly one customer, with its node number and cluster; identity_links, one row per link
-- that records made between two ids (what the people are computed from, so that they do not depend on
-- the order of the imports); customer_merges, one row per customer merged into another by an import.
-- Parameters: none.

CREATE SEQUENCE IF NOT EXISTS customer_ids START 1;
CREATE SEQUENCE IF NOT EXISTS identity_node_ids START 1;

CREATE TABLE IF NOT EXISTS customers (
    customer_id      BIGINT NOT NULL,
    attributes       JSON NOT NULL,
    first_import_id  BIGINT,
    last_import_id   BIGINT,
    record_hash      UHUGEINT  -- the hash of the last record applied to it alone: the same again changes nothing
);

-- a store from before record_hash has patch_hash instead, which etl.store.connection's upgrade then drops
ALTER TABLE customers ADD COLUMN IF NOT EXISTS record_hash UHUGEINT;

CREATE TABLE IF NOT EXISTS identities (
    id_type          VARCHAR NOT NULL,
    business_unit    VARCHAR NOT NULL,
    id_value         VARCHAR NOT NULL,
    customer_id      BIGINT NOT NULL,
    first_import_id  BIGINT,
    node             BIGINT NOT NULL,
    cluster          BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS identity_links (
    a                BIGINT NOT NULL,
    b                BIGINT NOT NULL,
    external         BOOLEAN NOT NULL,
    first_import_id  BIGINT
);

-- when each attribute was last set, by the format's updated_at (see entities/customers/attributes.sql)
CREATE TABLE IF NOT EXISTS customer_attribute_times (
    customer_id  BIGINT NOT NULL,
    name         VARCHAR NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS customer_merges (
    import_id  BIGINT NOT NULL,
    merged_id  BIGINT NOT NULL,
    into_id    BIGINT NOT NULL
);

-- which of a record's ids names its person: its first in the order external_id, email, email_sha256, phone,
-- other types, then value (used as arg_min(customer_id, identity_rank(...)))
CREATE OR REPLACE MACRO identity_rank(id_type, business_unit, id_value) AS
    (CASE id_type WHEN 'external_id' THEN 0 WHEN 'email' THEN 1 WHEN 'email_sha256' THEN 2 WHEN 'phone' THEN 3
                  ELSE 4 END, id_type, business_unit, id_value);

COMMENT ON TABLE customers IS 'One row per person, from every import that names people (users imports now; orders and events follow): their attributes. Which ids are whose is in identities.';
COMMENT ON COLUMN customers.customer_id IS 'The person''s number: kept across re-imports; when two people turn out to be one, the smaller number stays (customer_merges).';
COMMENT ON COLUMN customers.attributes IS 'The attributes as a JSON object: text from a CSV (unless cast), JSON types from JSON lines. Query them as attributes->>''name''.';
COMMENT ON COLUMN customers.first_import_id IS 'The import that first stored this person.';
COMMENT ON COLUMN customers.last_import_id IS 'The last import that changed this person.';
COMMENT ON COLUMN customers.record_hash IS 'A 128-bit hash of the last record applied to this person on its own (its ids, its attributes, the import''s strategy and null rule): a record with the same hash would change nothing, so a re-import skips it without looking its ids up. Null after a merge, or when one of its ids went to another person.';

COMMENT ON TABLE identities IS 'One row per id (id_type, business_unit, id_value); each belongs to exactly one customer.';
COMMENT ON COLUMN identities.id_type IS 'email, email_sha256, phone, external_id, or another named type (e.g. loyalty_card).';
COMMENT ON COLUMN identities.business_unit IS 'The business unit the id belongs to; empty when the source has none.';
COMMENT ON COLUMN identities.id_value IS 'The id, trimmed: an email (and an email_sha256) lowercased, every other id in its case, so Cust-42 and cust-42 are two ids (etl/formats/ids.py; fold_id_case lowercases a source''s ids).';
COMMENT ON COLUMN identities.customer_id IS 'The customer (customers.customer_id) this id belongs to.';
COMMENT ON COLUMN identities.first_import_id IS 'The import that first stored this id.';

COMMENT ON COLUMN identities.node IS 'The id''s number in the graph (identity_links.a and b).';
COMMENT ON COLUMN identities.cluster IS 'The connected part of the graph the id is in (the smallest node that ever joined it): what an import recomputes when its records touch it.';

COMMENT ON TABLE identity_links IS 'The links records made between ids, one row each: what the people are computed from. A record links its ids that are not external ids to the smallest of them (by type, business unit, value), and each of those to each of its external ids.';
COMMENT ON COLUMN identity_links.a IS 'An id (identities.node) that is not an external id.';
COMMENT ON COLUMN identity_links.b IS 'The id it was seen with: another id of the record that is not external, or an external id.';
COMMENT ON COLUMN identity_links.external IS 'b is an external id: a is then that person''s unless it was seen with a smaller external id.';
COMMENT ON COLUMN identity_links.first_import_id IS 'The import that first made the link.';

COMMENT ON TABLE customer_attribute_times IS 'When each attribute of a customer was last set, from the format''s updated_at: an older value never overwrites it.';
COMMENT ON COLUMN customer_attribute_times.customer_id IS 'The customer.';
COMMENT ON COLUMN customer_attribute_times.name IS 'The attribute.';
COMMENT ON COLUMN customer_attribute_times.updated_at IS 'The time of the value it holds (or of its removal).';

COMMENT ON TABLE customer_merges IS 'One row per customer merged into another: its ids, attributes and records now belong to into_id.';
COMMENT ON COLUMN customer_merges.import_id IS 'The import that found the two were one person.';
COMMENT ON COLUMN customer_merges.merged_id IS 'The customer number that is gone.';
COMMENT ON COLUMN customer_merges.into_id IS 'The customer it is now part of.';
