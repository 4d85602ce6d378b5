"""Seeded console data: providers, services and orders in every state the console shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from catalog.models import Category, Provider, Service
from orders.models import Order, Refill
from tests.factories import ProviderFactory, ServiceFactory, UserFactory

S = Order.Status


@dataclass
class Seed:
    customer: User
    providers: list[Provider]
    services: list[Service]
    review: Order
    held: Order
    failed: Order
    refill: Refill


def make_order(
    *, user: User, service: Service, status: str, days_ago: int = 0, **fields: object
) -> Order:
    now = timezone.now() - dt.timedelta(days=days_ago)
    final = status in (S.COMPLETED, S.PARTIAL, S.CANCELED, S.FAILED, S.EXPIRED)
    values: dict[str, object] = {
        "user": user,
        "service": service,
        "provider": service.provider,
        "upstream_service_id": service.upstream_id,
        "type": service.type,
        "link": "https://instagram.com/some.account",
        "quantity": 1000,
        "rate": service.rate,
        "charge": service.rate,
        "cost": service.upstream_rate if status not in (S.QUEUED, S.FAILED) else None,
        "status": status,
        "finished_at": now if final else None,
        **fields,
    }
    order = Order.objects.create(**values)
    Order.objects.filter(pk=order.pk).update(created_at=now, updated_at=now)
    order.refresh_from_db()
    return order


def seed_console(*, days: int = 14) -> Seed:
    customer = UserFactory(email="buyer@example.com", first_name="Anna")
    fast = ProviderFactory(
        name="FastSMM", balance=Decimal("412.50"), low_balance_threshold=Decimal("100")
    )
    cheap = ProviderFactory(
        name="CheapPanel",
        balance=Decimal("18.20"),
        low_balance_threshold=Decimal("50"),
        is_paused=True,
        paused_reason="Not enough funds on balance",
    )
    insta = Category.objects.get_or_create(name="Instagram Followers")[0]
    tiktok = Category.objects.get_or_create(name="TikTok Views")[0]
    services = [
        ServiceFactory(
            provider=fast,
            category=insta,
            name="Instagram Followers | Real | 30 days refill",
            upstream_rate=Decimal("1.20"),
            rate=Decimal("1.56000"),
        ),
        ServiceFactory(
            provider=fast,
            category=tiktok,
            name="TikTok Views | Instant",
            upstream_rate=Decimal("0.05"),
            rate=Decimal("0.09000"),
        ),
        ServiceFactory(
            provider=cheap,
            category=insta,
            name="Instagram Likes | Cheap",
            upstream_rate=Decimal("0.40"),
            rate=Decimal("0.60000"),
        ),
    ]
    statuses = [S.COMPLETED, S.COMPLETED, S.COMPLETED, S.PARTIAL, S.CANCELED, S.FAILED]
    for day in range(days):
        for index, status in enumerate(statuses[: 3 + day % 4]):
            service = services[(day + index) % len(services)]
            extra: dict[str, object] = {}
            if status in (S.PARTIAL, S.CANCELED):
                extra["refunded"] = service.rate / 2 if status == S.PARTIAL else service.rate
            make_order(user=customer, service=service, status=status, days_ago=day, **extra)
    review = make_order(
        user=customer,
        service=services[0],
        status=S.NEEDS_REVIEW,
        review_reason=Order.ReviewReason.UNKNOWN_OUTCOME,
        last_error="Read timeout after 30 s: the provider may have created the order",
    )
    held = make_order(
        user=customer,
        service=services[1],
        status=S.NEEDS_REVIEW,
        upstream_order_id="88123",
        review_reason=Order.ReviewReason.IMPOSSIBLE_NUMBER,
        review_data={"remains": -50, "quantity": 1000},
        last_error="Completed with remains -50",
    )
    failed = make_order(
        user=customer,
        service=services[2],
        status=S.FAILED,
        last_error="Incorrect link: the account is private",
    )
    done = make_order(
        user=customer, service=services[0], status=S.COMPLETED, upstream_order_id="77001"
    )
    refill = Refill.objects.create(
        order=done, status=Refill.Status.NEEDS_REVIEW, last_error="HTTP 502 from the provider"
    )
    return Seed(customer, [fast, cheap], services, review, held, failed, refill)
