"""The chaos checker itself: it must see what it is there to see."""

from decimal import Decimal

import pytest

from accounts.models import User
from chaos.checks import record_problems
from orders.models import Order
from orders.services import order_place
from tests.factories import ServiceFactory


@pytest.fixture
def orders(customer: User) -> list[Order]:
    service = ServiceFactory(is_enabled=True, rate=Decimal("10"), min_quantity=10)
    placed = [
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": f"https://example.com/{i}", "quantity": "100"},
            source="api_v2",
        )
        for i in range(2)
    ]
    for order, upstream_id in zip(placed, ("50001", "50002"), strict=True):
        Order.objects.filter(pk=order.pk).update(status="completed", upstream_order_id=upstream_id)
    return placed


def row(
    upstream_id: int, link: str, status: str = "Completed", remains: int = 0
) -> dict[str, object]:
    return {"id": upstream_id, "link": link, "status": status, "remains": remains}


def check(record: list[dict[str, object]], orders: list[Order]) -> list[str]:
    return record_problems(record, scope=[o.pk for o in orders], settled=True)


def test_it_passes_a_record_that_matches(orders: list[Order]) -> None:
    record = [row(50001, orders[0].link), row(50002, orders[1].link)]

    assert check(record, orders) == []


def test_it_sees_an_order_sent_twice_and_one_missing_upstream(orders: list[Order]) -> None:
    record = [row(50001, orders[0].link), row(50003, orders[0].link)]

    assert check(record, orders) == [
        f"order {orders[0].pk} (completed): 2 upstream orders (sent twice)",
        f"order {orders[1].pk} (completed): upstream id 50002 not upstream",
        f"upstream order 50003 ({orders[0].link}) is another order's link",
    ]


def test_it_sees_an_upstream_order_that_is_not_ours(orders: list[Order]) -> None:
    record = [
        row(50001, orders[0].link),
        row(50002, orders[1].link),
        row(50009, "https://example.com/x"),
    ]

    assert check(record, orders) == ["upstream order 50009 (https://example.com/x) is not ours"]


def test_it_sees_a_refund_that_does_not_match_the_provider(orders: list[Order]) -> None:
    Order.objects.filter(pk=orders[1].pk).update(status="partial")
    record = [row(50001, orders[0].link), row(50002, orders[1].link, "Partial", 40)]

    [problem] = check(record, orders)

    assert problem.startswith(f"order {orders[1].pk} (partial): refunded 0.00000, upstream Partial")
