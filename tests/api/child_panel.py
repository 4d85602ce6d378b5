"""Steps run inside a second Upline instance (its own database) for the compatibility test.

Invoked as `manage.py shell -c "from tests.api.child_panel import run; run()"` with the step and
its arguments in the environment; prints one JSON line with the result.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit
from catalog.models import Category, Provider, Service
from orders.models import Order
from orders.services import order_place
from orders.services.forwarding import order_forward
from orders.services.status_sync import orders_sync_statuses


def setup(args: dict[str, str]) -> dict[str, object]:
    provider = Provider(name="Parent Upline", api_url=args["parent_url"])
    provider.api_key = args["parent_key"]
    provider.save()
    service = Service.objects.create(
        provider=provider,
        upstream_id=args["upstream_service_id"],
        upstream_name="Followers via parent",
        upstream_rate=Decimal(args["upstream_rate"]),
        category=Category.objects.create(name="From parent"),
        name="Followers via parent",
        type="Default",
        min_quantity=10,
        max_quantity=10000,
        rate=Decimal("3.00"),
        is_enabled=True,
    )
    user = User.objects.create_user("child-customer@example.com", "x")
    balance_credit(user=user, amount=Decimal("20.00"), kind=LedgerEntry.Kind.DEPOSIT)
    return {"provider": provider.pk, "service": service.pk, "user": user.pk}


def place(args: dict[str, str]) -> dict[str, object]:
    user = User.objects.get(pk=args["user"])
    order = order_place(
        user=user,
        service_id=int(args["service"]),
        fields={"link": "https://instagram.com/child", "quantity": "1000"},
        source=Order.Source.WEB,
    )
    return {"order": order.pk, "status": order_forward(order_id=order.pk)}


def sync(args: dict[str, str]) -> dict[str, object]:
    orders_sync_statuses(provider_id=int(args["provider"]))
    order = Order.objects.get(pk=args["order"])
    return {
        "status": order.status,
        "upstream_order_id": order.upstream_order_id,
        "charge": str(order.charge),
        "cost": str(order.cost),
        "refunded": str(order.refunded),
        "balance": str(order.user.balance),
    }


STEPS = {"setup": setup, "place": place, "sync": sync}


def run() -> None:
    args = json.loads(os.environ["CHILD_ARGS"])
    print("CHILD-RESULT " + json.dumps(STEPS[os.environ["CHILD_STEP"]](args)))
