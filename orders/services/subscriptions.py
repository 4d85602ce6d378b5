"""Subscriptions without a posts limit: charged per delivered post while the balance lasts.

Subscriptions with ``posts`` are charged ``posts × max`` up front at placement and refunded for
undelivered posts when they end (see status_sync). Unlimited ones (allowed per service) are
charged here, one post at ``max`` units each, as the provider reports new posts. When the
balance cannot cover a post, the order is paused and, since SMM API v2 has no pause action,
canceled upstream so that the provider stops delivering. Unlimited subscriptions are offered
only on services whose provider supports cancel; if the cancel is refused or its outcome is
unknown the order goes to needs review (orders.services.cancels), and posts delivered beyond
the balance are charged when funds arrive and shown to staff as owed until then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.models import LedgerEntry, User
from accounts.services import InsufficientFunds, balance_debit
from orders.models import Order
from orders.services.validation import post_price

logger = logging.getLogger(__name__)

PAUSED_MESSAGE = "Paused: your balance does not cover the next post. Add funds and order again."


@dataclass(frozen=True)
class PostsCharge:
    """What one look at an unlimited subscription's posts did."""

    charged: int = 0
    # Posts delivered but not paid for, and what they are worth: the balance did not cover
    # them. Charged later as far as the balance then goes; shown to staff as owed.
    owed_posts: int = 0
    owed: Decimal = Decimal(0)


def subscription_charge_posts(*, order: Order, delivered: int | None) -> PostsCharge:
    """Charge the posts delivered and not yet paid for, as far as the balance goes.

    Call with the order row locked (status sync holds it); updates ``order`` in memory
    (``charge``, ``posts_delivered``). Each post is charged once: the posts paid for are
    ``charge / price`` (the price is fixed at placement) and only move forward under the lock.
    When some posts stay unpaid the caller pauses the order (``subscription_pause``).
    """
    if delivered is not None and delivered > order.posts_delivered:
        order.posts_delivered = delivered
    price = post_price(rate=Decimal(order.rate), max_quantity=int(order.fields.get("max", 0)))
    if price <= 0:
        return PostsCharge()
    unpaid = order.posts_delivered - int(Decimal(order.charge) // price)
    if unpaid <= 0:
        return PostsCharge()
    balance = User.objects.filter(pk=order.user_id).values_list("balance", flat=True).get()
    affordable = min(unpaid, int(balance // price))
    charged = 0
    if affordable > 0:
        try:
            balance_debit(
                user=User(pk=order.user_id),
                amount=price * affordable,
                kind=LedgerEntry.Kind.SUBSCRIPTION_CHARGE,
                order=order,
                reason=f"Order {order.pk}: {affordable} post(s)",
            )
            charged = affordable
            order.charge = Decimal(order.charge) + price * affordable
        except InsufficientFunds:
            charged = 0
    owed_posts = unpaid - charged
    return PostsCharge(charged=charged, owed_posts=owed_posts, owed=price * owed_posts)


def subscription_pause(*, order: Order) -> None:
    """The balance ran out: tell the customer and, since SMM API v2 has no pause action, ask
    the provider to cancel so that it stops delivering. The caller moves the status."""
    from orders.services.cancels import enqueue_cancel

    order.customer_message = PAUSED_MESSAGE
    if order.cancel_status in (Order.CancelStatus.NONE, Order.CancelStatus.REJECTED):
        order.cancel_status = Order.CancelStatus.REQUESTED
        order_id = order.pk
        transaction.on_commit(lambda: enqueue_cancel(order_id))
    logger.info("Subscription %s paused: the balance ran out", order.pk)
