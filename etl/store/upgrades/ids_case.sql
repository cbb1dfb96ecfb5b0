-- A store written under the old id rule (external ids lowercased by kevel_users, crossengage_events and
-- esputnik_events; ids of kevel_orders and other types kept untrimmed) brought to the one rule of etl.formats.ids:
-- every id trimmed, emails lowercased, the others in their case. An id gets the form it was given where the store
-- still holds it (CrossEngage events' `id`, eSputnik events' externalCustomerId, Kevel orders' userId), in one
-- form only; a folded id whose given form the store does not hold, or holds in several, is left as it is and
-- reported (etl.store.upgrades.ids_case).
-- Grain in: identities, identity_links, events, orders, imports.
-- Grain out: upg_renames, one per stored id whose value changes (node, id_type, business_unit, id_value, new_value,
-- keeper: the node that holds new_value afterwards); upg_unknown, one per external id that may have been folded and
-- whose given form is not known; stg_identity_links, the links of the ids dropped into their keeper (record: the
-- link), for etl.entities.identity.graph; identities renamed, the dropped ids and their links deleted; events.user_id and
-- orders.user_id renamed. Parameters: $folding_formats (the formats that lowercased external ids).

CREATE OR REPLACE TEMP TABLE upg_originals AS
SELECT DISTINCT id_type, given
FROM (
    SELECT 'external_id' AS id_type, trim(properties ->> 'id') AS given
    FROM events WHERE format = 'crossengage_events'
    UNION ALL
    SELECT 'external_id', trim(properties -> 'params' ->> key)
    FROM (SELECT properties, unnest(json_keys(properties -> 'params')) AS key
          FROM events WHERE format = 'esputnik_events' AND json_type(properties -> 'params') = 'OBJECT')
    WHERE lower(trim(key)) = 'externalcustomerid'
    UNION ALL
    SELECT o.user_id_type, trim(o.user_id)
    FROM orders AS o JOIN imports AS i ON i.import_id = o.last_import_id
    WHERE i.format = 'kevel_orders' AND o.user_id_type NOT IN ('email', 'email_sha256')
)
WHERE given IS NOT NULL AND given <> '';

CREATE OR REPLACE TEMP TABLE upg_candidates AS
WITH stored AS (
    SELECT node, id_type, business_unit, id_value, first_import_id,
           id_type = 'external_id' AND id_value = lower(id_value) AND id_value <> upper(id_value) AS maybe_folded
    FROM identities
    WHERE id_type NOT IN ('email', 'email_sha256')
)
SELECT s.node, s.id_type, s.business_unit, s.id_value, s.maybe_folded, s.first_import_id,
       coalesce(list(DISTINCT o.given) FILTER (WHERE o.given IS NOT NULL), []) AS givens
FROM stored AS s
LEFT JOIN upg_originals AS o
    ON o.id_type = s.id_type AND lower(o.given) = lower(trim(s.id_value))
    AND (o.given = trim(s.id_value) OR s.maybe_folded)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE upg_unknown AS  -- possibly folded, stored by a folding format, its form not known
SELECT c.id_type, c.business_unit, c.id_value, len(c.givens) AS forms
FROM upg_candidates AS c
WHERE c.maybe_folded AND (len(c.givens) = 0 OR len(c.givens) > 1) AND (
    EXISTS (SELECT 1 FROM imports AS i WHERE i.import_id = c.first_import_id
            AND list_contains($folding_formats::VARCHAR[], i.format))
    OR EXISTS (SELECT 1 FROM events AS e WHERE e.user_id_type = c.id_type AND e.user_id = c.id_value
               AND list_contains($folding_formats::VARCHAR[], e.format))
);

CREATE OR REPLACE TEMP TABLE upg_renames AS
WITH renamed AS (
    SELECT node, id_type, business_unit, id_value,
           CASE WHEN len(givens) = 1 THEN givens[1] ELSE trim(id_value) END AS new_value
    FROM upg_candidates
    WHERE len(givens) <= 1 OR NOT maybe_folded
),

changed AS (
    SELECT * FROM renamed WHERE new_value <> id_value
),

holders AS (  -- who holds each new value afterwards: an id that keeps it, else the smallest renamed to it
    SELECT c.id_type, c.business_unit, c.new_value,
           coalesce(any_value(i.node), min(c.node)) AS keeper
    FROM changed AS c
    LEFT JOIN identities AS i
        ON i.id_type = c.id_type AND i.business_unit = c.business_unit AND i.id_value = c.new_value
        AND i.node NOT IN (SELECT node FROM changed)
    GROUP BY ALL
)
SELECT c.*, h.keeper
FROM changed AS c
JOIN holders AS h USING (id_type, business_unit, new_value);

-- the dropped ids' links, as records of their keeper and the other id (etl.entities.identity.graph links them)
CREATE OR REPLACE TEMP TABLE stg_identity_links AS
WITH dropped AS (
    SELECT node, keeper FROM upg_renames WHERE node <> keeper
),

links AS (
    SELECT row_number() OVER () AS record, l.a, l.b, d.keeper, d.node AS gone
    FROM identity_links AS l
    JOIN dropped AS d ON d.node = l.a OR d.node = l.b
),

ends AS (
    SELECT record, CASE WHEN a = gone THEN keeper ELSE a END AS node FROM links
    UNION ALL
    SELECT record, CASE WHEN b = gone THEN keeper ELSE b END FROM links
)
SELECT e.record, i.id_type, i.business_unit, coalesce(r.new_value, i.id_value) AS id_value
FROM ends AS e
JOIN identities AS i USING (node)
LEFT JOIN upg_renames AS r USING (node);

DELETE FROM identity_links
WHERE a IN (SELECT node FROM upg_renames WHERE node <> keeper) OR b IN (SELECT node FROM upg_renames WHERE node <> keeper);

-- a dropped id's customer, for its records and its attributes to follow the keeper's (etl.store.upgrades.ids_case)
CREATE OR REPLACE TEMP TABLE upg_dropped AS
SELECT r.node, i.customer_id, r.keeper FROM upg_renames AS r JOIN identities AS i USING (node) WHERE r.node <> r.keeper;

DELETE FROM identities WHERE node IN (SELECT node FROM upg_dropped);

UPDATE identities SET id_value = r.new_value
FROM upg_renames AS r
WHERE identities.node = r.node AND r.node = r.keeper;

UPDATE events SET user_id = r.new_value
FROM upg_renames AS r
WHERE events.user_id_type = r.id_type AND events.user_id = r.id_value;

UPDATE orders SET user_id = r.new_value
FROM upg_renames AS r
WHERE orders.user_id_type = r.id_type AND orders.user_id = r.id_value;
