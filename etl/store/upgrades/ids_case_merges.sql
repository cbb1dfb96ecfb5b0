-- After store/upgrades/ids_case.sql and etl.entities.identity.graph: a customer left without ids (its only id was
-- dropped into a keeper's) is merged into the keeper's customer, by entities/identity/merge.sql, which this stages.
-- Grain in: upg_dropped (node, customer_id, keeper), identities. Grain out: stg_merges (merged_id, into_id), one
-- per customer to merge. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_merges AS
SELECT DISTINCT d.customer_id AS merged_id, k.customer_id AS into_id
FROM upg_dropped AS d
JOIN identities AS k ON k.node = d.keeper
WHERE d.customer_id <> k.customer_id
    AND NOT EXISTS (SELECT 1 FROM identities AS i WHERE i.customer_id = d.customer_id);
