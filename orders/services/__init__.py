"""Order services: every write to orders, refills and cancels goes through these functions."""

from orders.services.cancels import cancel_request
from orders.services.placement import order_place, order_quote
from orders.services.refills import refill_request

__all__ = ["cancel_request", "order_place", "order_quote", "refill_request"]
