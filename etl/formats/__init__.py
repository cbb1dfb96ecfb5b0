"""One module per vendor format; each turns its input into the canonical order rows."""

from etl.formats import kevel_orders

FORMATS = {"kevel_orders": kevel_orders}
