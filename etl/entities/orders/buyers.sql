-- The buyers of the import's kept orders, as the identity graph takes them: one id per order.
-- Grain in: stg_order_rows, stg_dropped_runs (entities/orders/assemble.sql).
-- Grain out: stg_identity_links, one per kept order with a buyer (record = its run `_seq`); an order without
-- one (a Shopify point-of-sale or draft order without an email) is stored without a customer. Parameters: none.

CREATE OR REPLACE TEMP TABLE stg_identity_links AS
SELECT r._seq AS record, r.user_id_type AS id_type, '' AS business_unit, r.user_id AS id_value
FROM stg_order_rows AS r
ANTI JOIN stg_dropped_runs AS d ON d._seq = r._seq
WHERE r.user_id IS NOT NULL;
