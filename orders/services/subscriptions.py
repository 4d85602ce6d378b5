"""Subscriptions without a posts limit: charged per delivered post while the balance lasts.

Subscriptions with ``posts`` are charged ``posts × max`` up front at placement and refunded for
undelivered posts when they end (see status_sync). Unlimited ones (allowed per service) are
charged here, one post at ``max`` units each, as the provider reports new posts. When the
balance cannot cover a post, the order is paused and, since SMM API v2 has no pause action,
canceled upstream so that the provider stops delivering.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction

from accounts.models import LedgerEntry, User
from accounts.services import InsufficientFunds, balance_debit
from orders.models import Order
from orders.services.validation import post_price

logger = logging.getLogger(__name__)

PAUSED_MESSAGE = "Paused: your balance does not cover the next post. Add funds and order again."


def subscription_charge_posts(*, order: Order, delivered: int | None) -> int:
    """Charge the posts delivered since the last look; returns how many were charged.

    Call with the order row locked (status sync holds it); updates ``order`` in memory
    (``charge``, ``posts_delivered``, and ``status`` when the balance ran out). Each post is
    charged once because ``posts_delivered`` only moves forward under the lock.
    """
    if delivered is None or delivered <= order.posts_delivered:
        return 0
    price = post_price(rate=Decimal(order.rate), max_quantity=int(order.fields.get("max", 0)))
    new_posts = delivered - order.posts_delivered
    charged = 0
    if price > 0:
        # Charge as many of the new posts as the balance allows, all in one debit when possible.
        balance = User.objects.filter(pk=order.user_id).values_list("balance", flat=True).get()
        affordable = min(new_posts, int(balance // price))
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
    else:
        charged = new_posts
    # Posts delivered beyond what the balance covered are not billed later either: the
    # provider delivered them before we could stop it, and a balance never goes negative.
    order.posts_delivered = delivered
    if charged < new_posts and order.status != Order.Status.PAUSED:
        _pause(order)
    return charged


def _pause(order: Order) -> None:
    from orders.services.cancels import enqueue_cancel

    order.status = Order.Status.PAUSED
    order.customer_message = PAUSED_MESSAGE
    if order.cancel_status in (Order.CancelStatus.NONE, Order.CancelStatus.REJECTED):
        order.cancel_status = Order.CancelStatus.REQUESTED
        order_id = order.pk
        transaction.on_commit(lambda: enqueue_cancel(order_id))
    logger.info("Subscription %s paused: the balance ran out", order.pk)
