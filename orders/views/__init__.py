"""Customer order pages (thin adapters over orders.services)."""

from orders.views.listing import order_cancel, order_detail, order_list, order_refill
from orders.views.mass import order_mass
from orders.views.new_order import order_new, order_quote_view, service_picker, service_search

__all__ = [
    "order_cancel",
    "order_detail",
    "order_list",
    "order_mass",
    "order_new",
    "order_quote_view",
    "order_refill",
    "service_picker",
    "service_search",
]
