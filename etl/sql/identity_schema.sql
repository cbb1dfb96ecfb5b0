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
