-- `etl events delete`: the events of a time range (and of some types) moved out of events, with their items, to
-- deleted_events and deleted_event_items, marked with the run (etl.entities.events.deletes).
-- Grain in: events, event_items. Grain out: the rows moved, one per event and one per item.
-- Parameters: $run_id, $from (included), $to (excluded: etl.entities.events.deletes.bound made both ends instants),
-- $types (event types; none: every type).

CREATE OR REPLACE TEMP TABLE stg_deleted AS
SELECT event_id
FROM events
WHERE occurred_at >= $from::TIMESTAMPTZ AND occurred_at < $to::TIMESTAMPTZ
  AND (len($types::VARCHAR[]) = 0 OR list_contains($types::VARCHAR[], event_type));

INSERT INTO deleted_events BY NAME
SELECT *, $run_id AS deleted_by
FROM events
WHERE occurred_at >= $from::TIMESTAMPTZ AND occurred_at < $to::TIMESTAMPTZ
  AND (len($types::VARCHAR[]) = 0 OR list_contains($types::VARCHAR[], event_type));

INSERT INTO deleted_event_items BY NAME
SELECT event_items.*, $run_id AS deleted_by
FROM event_items
SEMI JOIN stg_deleted USING (event_id);

DELETE FROM event_items USING stg_deleted WHERE event_items.event_id = stg_deleted.event_id;

-- by the range itself: a join of tens of millions of events to the ids outgrew the memory an import may use
DELETE FROM events
WHERE occurred_at >= $from::TIMESTAMPTZ AND occurred_at < $to::TIMESTAMPTZ
  AND (len($types::VARCHAR[]) = 0 OR list_contains($types::VARCHAR[], event_type));
