-- The identity graph: who is who, for every entity whose records name a person.
-- Grain: customers, one row per person; identities, one per (id_type, business_unit, id_value), each
-- belonging to exactly one customer; identity_evidence, one row per id of each distinct set of ids
-- that some record carried together (what the graph is computed from, so that it does not depend on
-- the order of the imports); customer_merges, one row per customer merged into another by an import.
-- Parameters: none.

CREATE SEQUENCE IF NOT EXISTS customer_ids START 1;

CREATE TABLE IF NOT EXISTS customers (
    customer_id      BIGINT NOT NULL,
    attributes       JSON NOT NULL,
    first_import_id  BIGINT,
    last_import_id   BIGINT
);

CREATE TABLE IF NOT EXISTS identities (
    id_type          VARCHAR NOT NULL,
    business_unit    VARCHAR NOT NULL,
    id_value         VARCHAR NOT NULL,
    customer_id      BIGINT NOT NULL,
    first_import_id  BIGINT
);

CREATE TABLE IF NOT EXISTS identity_evidence (
    evidence         VARCHAR NOT NULL,
    id_type          VARCHAR NOT NULL,
    business_unit    VARCHAR NOT NULL,
    id_value         VARCHAR NOT NULL,
    first_import_id  BIGINT
);

-- when each attribute was last set, by the format's updated_at (see customers_attributes.sql)
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

COMMENT ON TABLE customers IS 'One row per person, from every import that names people (users imports now; orders and events follow): their attributes. Which ids are whose is in identities.';
COMMENT ON COLUMN customers.customer_id IS 'The person''s number: kept across re-imports; when two people turn out to be one, the smaller number stays (customer_merges).';
COMMENT ON COLUMN customers.attributes IS 'The attributes as a JSON object: text from a CSV (unless cast), JSON types from JSON lines. Query them as attributes->>''name''.';
COMMENT ON COLUMN customers.first_import_id IS 'The import that first stored this person.';
COMMENT ON COLUMN customers.last_import_id IS 'The last import that changed this person.';

COMMENT ON TABLE identities IS 'One row per id (id_type, business_unit, id_value); each belongs to exactly one customer.';
COMMENT ON COLUMN identities.id_type IS 'email, email_sha256, phone, external_id (lowercased and trimmed), or another named type kept as given.';
COMMENT ON COLUMN identities.business_unit IS 'The business unit the id belongs to; empty when the source has none.';
COMMENT ON COLUMN identities.id_value IS 'The id.';
COMMENT ON COLUMN identities.customer_id IS 'The customer (customers.customer_id) this id belongs to.';
COMMENT ON COLUMN identities.first_import_id IS 'The import that first stored this id.';

COMMENT ON TABLE identity_evidence IS 'The sets of ids that records carried together, one row per id of each distinct set: what the people are computed from.';
COMMENT ON COLUMN identity_evidence.evidence IS 'The set''s key: the md5 of its sorted ids.';
COMMENT ON COLUMN identity_evidence.id_type IS 'An id of the set: its type.';
COMMENT ON COLUMN identity_evidence.business_unit IS 'Its business unit.';
COMMENT ON COLUMN identity_evidence.id_value IS 'Its value.';
COMMENT ON COLUMN identity_evidence.first_import_id IS 'The import that first saw the set.';

COMMENT ON TABLE customer_attribute_times IS 'When each attribute of a customer was last set, from the format''s updated_at: an older value never overwrites it.';
COMMENT ON COLUMN customer_attribute_times.customer_id IS 'The customer.';
COMMENT ON COLUMN customer_attribute_times.name IS 'The attribute.';
COMMENT ON COLUMN customer_attribute_times.updated_at IS 'The time of the value it holds (or of its removal).';

COMMENT ON TABLE customer_merges IS 'One row per customer merged into another: its ids, attributes and records now belong to into_id.';
COMMENT ON COLUMN customer_merges.import_id IS 'The import that found the two were one person.';
COMMENT ON COLUMN customer_merges.merged_id IS 'The customer number that is gone.';
COMMENT ON COLUMN customer_merges.into_id IS 'The customer it is now part of.';
