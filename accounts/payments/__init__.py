"""Adding funds through payment gateways.

Public API: `enabled_gateways()`, `gateway_get(code)`, `payment_start(...)`, `PaymentError`,
`Gateway`; gateway-independent writes `payment_confirm` / `payment_close`.
"""

from accounts.payments.base import Checkout, Gateway, GatewayUnavailable, PaymentError
from accounts.payments.gateways import enabled_gateways, gateway_get, payment_start
from accounts.payments.services import payment_close, payment_confirm

__all__ = [
    "Checkout",
    "Gateway",
    "GatewayUnavailable",
    "PaymentError",
    "enabled_gateways",
    "gateway_get",
    "payment_close",
    "payment_confirm",
    "payment_start",
]
