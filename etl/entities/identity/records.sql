-- Each record of this import and its customer: the customer of the id the record names (a record's ids are one
-- customer but when a link to a second external id's person was not followed): its first id in the order of
-- $named_by (an events format's id types: the event's user_id_type and user_id are that id, so the event sits on
-- the customer its named id resolves to, whatever the import order), then external_id, email, email_sha256,
-- phone, other types, then value (identity_rank).
-- Grain in: stg_record_ids (one row per id of a record, with its customer before this import),
-- stg_node_customers (after it, for the ids of the region; empty when the graph did not change), stg_isolated
-- (entities/identity/isolated.sql: records that are people of their own; empty then too).
-- Grain out: stg_record_customers, one row per record. Parameters: $named_by (id types; empty: identity_rank alone).

CREATE OR REPLACE TEMP TABLE stg_record_customers AS
SELECT
    r.record,
    arg_min(
        coalesce(nc.customer_id, r.customer_id),
        (coalesce(list_position($named_by::VARCHAR[], r.id_type), 0) = 0,
         coalesce(list_position($named_by::VARCHAR[], r.id_type), 0),
         identity_rank(r.id_type, r.business_unit, r.id_value))
    ) AS customer_id
FROM stg_record_ids AS r
ANTI JOIN stg_isolated AS i USING (record)
LEFT JOIN stg_node_customers AS nc USING (node)
GROUP BY r.record
UNION ALL  -- a person of its own has its customer already
SELECT record, customer_id FROM stg_isolated;
