"""The canonical columns: what the formats of each entity stage, and what the entity's SQL reads.

This module is the contract between the two sides (with etl.formats.plan): a format writes these columns, whatever
its vendor calls them; an entity reads them, whatever format wrote them. It imports nothing, so that both can.
"""

# Orders (entities/orders/assemble.sql and keyed.sql read them): the order's columns, taken from the first row of
# its run, and the line's, from every row.
ORDER_COLUMNS = [
    "order_id", "user_id_type", "user_id", "currency", "total", "subtotal", "tax", "shipping", "discount", "refund",
    "payment_method", "shipping_method", "shipping_country", "source", "promotions", "created_at", "last_updated",
    "custom_fields",
]  # fmt: skip
LINE_COLUMNS = [
    "order_id", "line_item_id", "product_id", "item_group_id", "name", "sku", "brand", "category", "categories",
    "line_currency", "line_total", "line_subtotal", "line_tax", "line_shipping", "line_discount", "line_refund",
    "quantity", "line_promotions", "adult", "subscription_duration_ms", "size", "size_system", "status",
    "line_custom_fields",
]  # fmt: skip
# a staged order column custom:<key> is the order's custom field <key>: the store packs them into
# orders.custom_fields, a JSON object without the null ones (see entities/orders/custom_fields.sql)
CUSTOM_FIELD = "custom:"

# Customers (entities/customers/*.sql): the record's ids, its attributes' patch and what it says of them
CUSTOMER_STAGED = ("ids", "patch", "not_attributes", "drop_nulls", "updated_at", "hash_hi", "hash_lo")

# Products (entities/products/stage.sql)
PRODUCT_COLUMNS = [
    "product_id", "item_group_id", "name", "description", "brand", "category", "categories",
    "google_product_category", "price", "sale_price", "currency", "availability", "condition", "link",
    "image_link", "gtin", "mpn", "color", "size",
]  # fmt: skip
PRODUCT_STAGED = (*PRODUCT_COLUMNS, "attributes", "not_attributes", "hash_hi", "hash_lo")

# Events (entities/events/stage.sql; etl.formats.events says what each means): the order an event makes or changes
# (null for a format that feeds no orders), then the event's own
EVENT_ORDER_STAGED = (
    "order_action",
    "order_status",
    "order_total",
    "order_currency",
    "order_created_at",
    "order_lines",
)
EVENT_STAGED = ("event_type", "occurred_at", "ids", "business_unit", "properties", "order_id", *EVENT_ORDER_STAGED,
                "key_hi", "key_lo", "hash_hi", "hash_lo")  # fmt: skip
