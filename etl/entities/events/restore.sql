-- `etl events restore RUN_ID`: the events a delete run moved to deleted_events put back, in their event ids, with
-- their items, and belonging to the person their id names now (people may have merged since); an event the store
-- holds again (imported after the delete: its event_key) is not put back twice.
-- Grain in: deleted_events, deleted_event_items (of the run), events, identities, orders.
-- Grain out: stg_restored (one per event put back), stg_restored_items; the run's rows leave deleted_*.
-- Parameters: $run_id (the delete run).

CREATE OR REPLACE TEMP TABLE stg_restored AS
WITH deleted AS (
    SELECT * FROM deleted_events WHERE deleted_by = $run_id
),

back_already AS (
    SELECT event_key FROM events SEMI JOIN deleted USING (event_key)
)

SELECT
    d.* EXCLUDE (deleted_by, customer_id),
    -- the person now: by the id the event named its person by, else (an order's event) its order's buyer
    coalesce(people.customer_id, buyers.customer_id, d.customer_id) AS customer_id
FROM deleted AS d
ANTI JOIN back_already USING (event_key)
LEFT JOIN identities AS people
    ON people.id_type = d.user_id_type AND people.id_value = d.user_id AND people.business_unit = ''
LEFT JOIN orders AS buyers ON d.user_id IS NULL AND buyers.order_id = d.order_id;

CREATE OR REPLACE TEMP TABLE stg_restored_items AS
SELECT i.* EXCLUDE (deleted_by)
FROM deleted_event_items AS i
SEMI JOIN stg_restored USING (event_id)
WHERE i.deleted_by = $run_id;

INSERT INTO events BY NAME SELECT * FROM stg_restored;

INSERT INTO event_items BY NAME SELECT * FROM stg_restored_items;

DELETE FROM deleted_event_items WHERE deleted_by = $run_id;

DELETE FROM deleted_events WHERE deleted_by = $run_id;
