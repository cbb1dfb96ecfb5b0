-- The store's invariants: what must hold between its tables whatever the imports did (etl/quality/store_invariants.py).
-- Grain out: one row per violated invariant: its name, how many rows break it, and the first $examples of them
-- (each a JSON object naming the row), smallest first. An invariant that holds gives no row.
-- Parameters: $examples, how many example rows each violation keeps.
-- Ids: events and orders name their person with a business unit of '' (entities/orders/buyers.sql, entities/events/stage.sql).

WITH
-- import CTEs
ids AS (SELECT id_type, business_unit, id_value, customer_id, node FROM identities),
people AS (SELECT customer_id FROM customers),
stored_orders AS (SELECT order_id, customer_id, user_id_type, user_id FROM orders),
stored_lines AS (SELECT order_id, line_no FROM line_items),
stored_events AS (SELECT event_id, event_type, order_id, customer_id, user_id_type, user_id FROM events),
stored_event_items AS (SELECT event_id, position FROM event_items),
order_places AS (
    SELECT order_id FROM events WHERE event_type = 'orderPlace'
    UNION ALL
    SELECT order_id FROM deleted_events WHERE event_type = 'orderPlace'
),
runs AS (SELECT import_id, status, dry_run, items, valid, rejected FROM imports),

-- logical CTEs: each yields (invariant, key, detail) for the rows that break it
id_owners AS (
    SELECT id_type, business_unit, id_value, count(*) AS copies, list(DISTINCT customer_id) AS customers
    FROM ids GROUP BY ALL
),
id_on_two_customers AS (
    SELECT 'id_belongs_to_one_customer' AS invariant, id_type || ':' || id_value AS key,
           json_object('id_type', id_type, 'business_unit', business_unit, 'id_value', id_value,
                       'customers', customers) AS detail
    FROM id_owners WHERE len(customers) > 1
),
id_stored_twice AS (  -- one row per id: a second row of the same id on the same customer is a duplicate
    SELECT 'id_stored_once' AS invariant, id_type || ':' || id_value AS key,
           json_object('id_type', id_type, 'business_unit', business_unit, 'id_value', id_value,
                       'copies', copies) AS detail
    FROM id_owners WHERE copies > 1 AND len(customers) = 1
),
id_without_customer AS (
    SELECT 'id_customer_exists' AS invariant, i.id_type || ':' || i.id_value AS key,
           json_object('id_type', i.id_type, 'id_value', i.id_value, 'customer_id', i.customer_id) AS detail
    FROM ids AS i ANTI JOIN people AS p USING (customer_id)
),
customer_twice AS (
    SELECT 'customer_id_unique' AS invariant, customer_id::VARCHAR AS key,
           json_object('customer_id', customer_id, 'copies', count(*)) AS detail
    FROM people GROUP BY customer_id HAVING count(*) > 1
),
customer_without_id AS (
    SELECT 'customer_has_an_id' AS invariant, p.customer_id::VARCHAR AS key,
           json_object('customer_id', p.customer_id) AS detail
    FROM people AS p ANTI JOIN ids AS i USING (customer_id)
),
resolved AS (  -- what an id resolves to (an id on two customers is a violation of its own, above)
    SELECT id_type, business_unit, id_value, min(customer_id) AS customer_id FROM ids GROUP BY ALL
),
order_named AS (
    SELECT o.*, i.customer_id AS named_customer, i.id_value IS NOT NULL AS known
    FROM stored_orders AS o
    LEFT JOIN resolved AS i ON i.id_type = o.user_id_type AND i.business_unit = '' AND i.id_value = o.user_id
),
order_off_its_buyer AS (  -- the buyer's id names the customer; an order without a buyer has none
    SELECT 'order_on_its_buyers_customer' AS invariant, order_id AS key,
           json_object('order_id', order_id, 'user_id_type', user_id_type, 'user_id', user_id,
                       'customer_id', customer_id, 'named_customer', named_customer, 'id_known', known) AS detail
    FROM order_named
    WHERE (user_id IS NULL AND customer_id IS NOT NULL)
       OR (user_id IS NOT NULL AND customer_id IS DISTINCT FROM named_customer)
),
event_named AS (
    SELECT e.*, i.customer_id AS named_customer, i.id_value IS NOT NULL AS known
    FROM stored_events AS e
    LEFT JOIN resolved AS i ON i.id_type = e.user_id_type AND i.business_unit = '' AND i.id_value = e.user_id
    WHERE e.user_id_type IS NOT NULL
),
event_off_its_person AS (
    SELECT 'event_on_its_named_customer' AS invariant, event_id::VARCHAR AS key,
           json_object('event_id', event_id, 'event_type', event_type, 'user_id_type', user_id_type,
                       'user_id', user_id, 'customer_id', customer_id, 'named_customer', named_customer,
                       'id_known', known) AS detail
    FROM event_named WHERE customer_id IS DISTINCT FROM named_customer
),
order_event_off_its_order AS (  -- orderPlace and orderUpdate follow their order, which must be stored
    SELECT 'order_event_on_its_orders_customer' AS invariant, e.event_id::VARCHAR AS key,
           json_object('event_id', e.event_id, 'event_type', e.event_type, 'order_id', e.order_id,
                       'customer_id', e.customer_id, 'order_customer', o.customer_id,
                       'order_stored', o.order_id IS NOT NULL) AS detail
    FROM stored_events AS e LEFT JOIN stored_orders AS o USING (order_id)
    WHERE e.order_id IS NOT NULL AND e.user_id_type IS NULL
      AND (o.order_id IS NULL OR e.customer_id IS DISTINCT FROM o.customer_id)
),
person_missing AS (  -- a customer_id that names no customer: an order's buyer or an event's person
    SELECT 'customer_of_record_exists' AS invariant, 'order ' || o.order_id AS key,
           json_object('table', 'orders', 'row_key', o.order_id, 'customer_id', o.customer_id) AS detail
    FROM stored_orders AS o ANTI JOIN people AS p USING (customer_id)
    WHERE o.customer_id IS NOT NULL
    UNION ALL
    SELECT 'customer_of_record_exists', 'event ' || e.event_id,
           json_object('table', 'events', 'row_key', e.event_id::VARCHAR, 'customer_id', e.customer_id)
    FROM stored_events AS e ANTI JOIN people AS p USING (customer_id)
    WHERE e.customer_id IS NOT NULL
),
order_twice AS (
    SELECT 'order_id_unique' AS invariant, order_id AS key,
           json_object('order_id', order_id, 'copies', count(*)) AS detail
    FROM stored_orders GROUP BY order_id HAVING count(*) > 1
),
line_twice AS (
    SELECT 'line_item_unique' AS invariant, order_id || '#' || line_no AS key,
           json_object('order_id', order_id, 'line_no', line_no, 'copies', count(*)) AS detail
    FROM stored_lines GROUP BY order_id, line_no HAVING count(*) > 1
),
line_orphan AS (
    SELECT 'line_item_has_its_order' AS invariant, l.order_id || '#' || l.line_no AS key,
           json_object('order_id', l.order_id, 'line_no', l.line_no) AS detail
    FROM stored_lines AS l ANTI JOIN stored_orders AS o USING (order_id)
),
event_twice AS (
    SELECT 'event_id_unique' AS invariant, event_id::VARCHAR AS key,
           json_object('event_id', event_id, 'copies', count(*)) AS detail
    FROM stored_events GROUP BY event_id HAVING count(*) > 1
),
event_item_orphan AS (
    SELECT 'event_item_has_its_event' AS invariant, ei.event_id || '#' || ei.position AS key,
           json_object('event_id', ei.event_id, 'position', ei.position) AS detail
    FROM stored_event_items AS ei ANTI JOIN stored_events AS e USING (event_id)
),
order_without_place AS (  -- every stored order was placed once (its orderPlace may have been deleted since)
    SELECT 'order_has_one_order_place' AS invariant, o.order_id AS key,
           json_object('order_id', o.order_id, 'order_places', count(e.order_id)) AS detail
    FROM stored_orders AS o
    LEFT JOIN order_places AS e USING (order_id)
    GROUP BY o.order_id HAVING count(e.order_id) <> 1
),
run_rejects AS (
    SELECT r.import_id, any_value(r.items) AS items, any_value(r.valid) AS valid, any_value(r.rejected) AS rejected,
           count(j.import_id) AS rejects_rows
    FROM runs AS r LEFT JOIN rejects AS j USING (import_id)
    WHERE r.status = 'completed' AND NOT r.dry_run
    GROUP BY r.import_id
),
run_uncounted AS (  -- read = stored + rejected, and every rejected row of a stored run is in rejects
    SELECT 'import_counts_add_up' AS invariant, import_id::VARCHAR AS key,
           json_object('import_id', import_id, 'items', items, 'valid', valid, 'rejected', rejected,
                       'rejects_rows', rejects_rows) AS detail
    FROM run_rejects
    WHERE items IS DISTINCT FROM valid + rejected OR rejected IS DISTINCT FROM rejects_rows
),
violations AS (
    SELECT invariant, key, detail AS detail FROM id_on_two_customers
    UNION ALL SELECT invariant, key, detail FROM id_stored_twice
    UNION ALL SELECT invariant, key, detail FROM id_without_customer
    UNION ALL SELECT invariant, key, detail FROM customer_twice
    UNION ALL SELECT invariant, key, detail FROM customer_without_id
    UNION ALL SELECT invariant, key, detail FROM order_off_its_buyer
    UNION ALL SELECT invariant, key, detail FROM event_off_its_person
    UNION ALL SELECT invariant, key, detail FROM order_event_off_its_order
    UNION ALL SELECT invariant, key, detail FROM person_missing
    UNION ALL SELECT invariant, key, detail FROM order_twice
    UNION ALL SELECT invariant, key, detail FROM line_twice
    UNION ALL SELECT invariant, key, detail FROM line_orphan
    UNION ALL SELECT invariant, key, detail FROM event_twice
    UNION ALL SELECT invariant, key, detail FROM event_item_orphan
    UNION ALL SELECT invariant, key, detail FROM order_without_place
    UNION ALL SELECT invariant, key, detail FROM run_uncounted
)

-- final select
SELECT invariant, count(*) AS violations,
       list(detail ORDER BY key)[1:$examples] AS examples
FROM violations
GROUP BY invariant
ORDER BY invariant
