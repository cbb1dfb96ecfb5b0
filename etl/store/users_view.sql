-- The users view: the people of the identity graph as analysts ask for them, one row per customer with its ids
-- and attributes. Created after the store's upgrades (a store written before the graph had a users table).
-- Grain: one row per customer. Parameters: none.

CREATE OR REPLACE VIEW users AS
WITH ids AS (
    SELECT
        customer_id,
        list(id_value ORDER BY id_value) FILTER (id_type = 'external_id') AS external_ids,
        list(id_value ORDER BY id_value) FILTER (id_type = 'email') AS emails,
        list(id_value ORDER BY id_value) FILTER (id_type = 'phone') AS phones,
        list({'id_type': id_type, 'business_unit': business_unit, 'id_value': id_value}
             ORDER BY id_type, business_unit, id_value) AS ids
    FROM identities
    GROUP BY customer_id
)
SELECT c.customer_id, coalesce(ids.external_ids, []) AS external_ids, coalesce(ids.emails, []) AS emails,
       coalesce(ids.phones, []) AS phones, coalesce(ids.ids, []) AS ids, c.attributes, c.first_import_id,
       c.last_import_id
FROM customers AS c
LEFT JOIN ids USING (customer_id);

COMMENT ON VIEW users IS 'One row per customer (a view of customers and identities): its ids and attributes.';
COMMENT ON COLUMN users.customer_id IS 'The customer (customers.customer_id; orders.customer_id refers to it).';
COMMENT ON COLUMN users.external_ids IS 'Its external id (at most one), as a list.';
COMMENT ON COLUMN users.emails IS 'Its emails, sorted.';
COMMENT ON COLUMN users.phones IS 'Its phone numbers, sorted.';
COMMENT ON COLUMN users.ids IS 'Every id, {id_type, business_unit, id_value}, sorted.';
COMMENT ON COLUMN users.attributes IS 'customers.attributes.';
COMMENT ON COLUMN users.first_import_id IS 'The import that first stored this person.';
COMMENT ON COLUMN users.last_import_id IS 'The last import that changed its attributes.';
