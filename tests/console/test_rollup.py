import datetime as dt
from decimal import Decimal

from django.utils import timezone

from console.models import DailyRollup
from console.services import rollup_rebuild
from orders.models import Order
from tests.console.seed import make_order
from tests.factories import ServiceFactory, UserFactory


def totals() -> list[tuple[object, ...]]:
    return list(
        DailyRollup.objects.order_by("day", "service_id").values_list(
            "day",
            "service_id",
            "orders",
            "completed",
            "partial",
            "failed",
            "charge",
            "refunded",
            "cost",
        )
    )


def test_it_counts_an_order_once_when_it_settles_and_adds_a_later_refund(db):
    user = UserFactory()
    service = ServiceFactory(rate=Decimal("2.00000"), upstream_rate=Decimal("1.50000"))
    order = make_order(user=user, service=service, status=Order.Status.IN_PROGRESS)
    assert DailyRollup.objects.count() == 0  # open orders are not in the rollup

    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(status="partial", finished_at=now)
    Order.objects.filter(pk=order.pk).update(last_polled_at=now)  # an unrelated write
    Order.objects.filter(pk=order.pk).update(refunded=Decimal("0.50000"))

    assert totals() == [
        (
            now.date(),
            service.pk,
            1,
            0,
            1,
            0,
            Decimal("2.00000"),
            Decimal("0.50000"),
            Decimal("1.50000"),
        )
    ]


def test_the_rebuild_agrees_with_the_trigger(db):
    user = UserFactory()
    services = [ServiceFactory(), ServiceFactory()]
    for days_ago in range(3):
        for service in services:
            make_order(user=user, service=service, status="completed", days_ago=days_ago)
            make_order(
                user=user,
                service=service,
                status="canceled",
                days_ago=days_ago,
                refunded=service.rate,
            )
            make_order(user=user, service=service, status="failed", days_ago=days_ago)
    make_order(user=user, service=services[0], status="in_progress")
    by_trigger = totals()
    assert len(by_trigger) == 6

    assert rollup_rebuild() == 6
    assert totals() == by_trigger

    since = timezone.now().date() - dt.timedelta(days=1)
    assert rollup_rebuild(since=since) == 4
    assert totals() == by_trigger
