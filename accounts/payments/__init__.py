"""Adding funds: online gateways (Stripe Checkout, NOWPayments crypto invoices, PayPal
Checkout) and manual methods staff confirm, one module each.

Public API: `enabled_gateways()`, `gateway_get(code)`, `payment_start(...)`, `PaymentError`,
`Gateway`; manual methods `manual_methods()`, `manual_payment_submit/approve/reject`; deposit
bonuses `bonus_rules()` / `deposit_bonus(amount)`; gateway-independent writes
`payment_confirm` (the single place a deposit is credited) / `payment_close`.
"""

from accounts.payments.base import Checkout, Gateway, GatewayUnavailable, PaymentError
from accounts.payments.bonus import bonus_rules, deposit_bonus
from accounts.payments.gateways import enabled_gateways, gateway_get, payment_start
from accounts.payments.manual import (
    manual_methods,
    manual_payment_approve,
    manual_payment_reject,
    manual_payment_submit,
)
from accounts.payments.services import payment_close, payment_confirm

__all__ = [
    "Checkout",
    "Gateway",
    "GatewayUnavailable",
    "PaymentError",
    "bonus_rules",
    "deposit_bonus",
    "enabled_gateways",
    "gateway_get",
    "manual_methods",
    "manual_payment_approve",
    "manual_payment_reject",
    "manual_payment_submit",
    "payment_close",
    "payment_confirm",
    "payment_start",
]
