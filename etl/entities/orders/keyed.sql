-- The import's orders with their buyers resolved: one per kept order, with its run number `_seq`.
-- Grain in: stg_order_rows_packed (stg_order_rows of entities/orders/assemble.sql, with the custom fields a format staged
-- flat packed: entities/orders/custom_fields.sql), stg_dropped_runs (entities/orders/assemble.sql); stg_record_customers (etl.entities.identity.graph: the
-- customer of each order's buyer, record = _seq; none for an order without a buyer: customer_id null).
-- Grain out: stg_orders_keyed (view), stg_orders (view, without _seq). Parameters: none.

CREATE OR REPLACE TEMP VIEW stg_orders_keyed AS
SELECT
    stg_order_rows._seq,
    order_id,
    buyers.customer_id,
    user_id_type,
    user_id,
    currency,
    total,
    subtotal,
    tax,
    shipping,
    discount,
    refund,
    payment_method,
    shipping_method,
    shipping_country,
    source,
    promotions,
    created_at,
    last_updated,
    coalesce(custom_fields::JSON, packed_custom_fields) AS custom_fields
FROM stg_order_rows_packed AS stg_order_rows
LEFT JOIN stg_record_customers AS buyers ON buyers.record = stg_order_rows._seq
ANTI JOIN stg_dropped_runs ON stg_dropped_runs._seq = stg_order_rows._seq;

CREATE OR REPLACE TEMP VIEW stg_orders AS
SELECT * EXCLUDE (_seq) FROM stg_orders_keyed;
