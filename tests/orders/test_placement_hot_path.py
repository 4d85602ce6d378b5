"""The per-order hot path: what placement remembers, and how few statements an order costs."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LedgerEntry, User
from accounts.services import balance_debit
from catalog.models import Provider, Service, UserRate
from orders.errors import PlacementError
from orders.models import Order
from orders.services import order_place
from orders.services.validation import forget_catalogue


def place(user: User, service: Service, link: str, quantity: str = "1000") -> Order:
    return order_place(
        user=user,
        service_id=service.pk,
        fields={"link": link, "quantity": quantity},
        source="api_v2",
    )


def test_it_prices_from_the_remembered_service_within_the_window(customer, services):
    service = services["default"]
    place(customer, service, "https://x.com/1")
    Service.objects.filter(pk=service.pk).update(rate=Decimal("9.00"))

    assert place(customer, service, "https://x.com/2").charge == Decimal("1.50000")
    forget_catalogue()  # what the window's end does
    assert place(customer, service, "https://x.com/3").charge == Decimal("9.00000")


def test_it_reads_the_service_on_every_order_when_the_window_is_zero(
    customer, services, settings: Any
) -> None:
    settings.ORDERS_SERVICE_CACHE_SECONDS = 0
    service = services["default"]
    place(customer, service, "https://x.com/1")
    Provider.objects.filter(pk=service.provider_id).update(is_enabled=False)

    with pytest.raises(PlacementError) as exc:
        place(customer, service, "https://x.com/2")
    assert exc.value.api_error == "Incorrect service ID"


def test_it_never_remembers_an_unsellable_service(customer, services):
    service = services["default"]
    Service.objects.filter(pk=service.pk).update(is_enabled=False)
    with pytest.raises(PlacementError):
        place(customer, service, "https://x.com/1")

    Service.objects.filter(pk=service.pk).update(is_enabled=True)
    assert place(customer, service, "https://x.com/1").status == Order.Status.QUEUED


def test_it_reprices_at_once_when_the_users_discount_changes(customer, services):
    service = services["default"]
    place(customer, service, "https://x.com/1")
    User.objects.filter(pk=customer.pk).update(discount_percent=Decimal("10"))
    customer.refresh_from_db()

    assert place(customer, service, "https://x.com/2").charge == Decimal("1.35000")


def test_it_reads_a_services_custom_rates_once_for_every_caller(customer, reseller, services):
    service = services["default"]
    UserRate.objects.create(user=reseller, service=service, rate=Decimal("1.10"))
    place(customer, service, "https://x.com/1")  # the service row and its custom rates
    with CaptureQueriesContext(connection) as queries:
        assert place(reseller, service, "https://x.com/2").charge == Decimal("1.10000")
    assert not [q for q in queries.captured_queries if "userrate" in q["sql"].lower()]
    forget_catalogue()  # what the window's end does: a new custom rate counts from then on
    UserRate.objects.filter(user=reseller).update(rate=Decimal("1.20"))
    assert place(reseller, service, "https://x.com/3").charge == Decimal("1.20000")


def test_it_remembers_rates_per_user(customer, reseller, services):
    service = services["default"]
    UserRate.objects.create(user=reseller, service=service, rate=Decimal("1.10"))
    assert place(customer, service, "https://x.com/1").charge == Decimal("1.50000")
    assert place(reseller, service, "https://x.com/2").charge == Decimal("1.10000")
    assert place(customer, service, "https://x.com/3").charge == Decimal("1.50000")


def test_it_places_a_repeat_order_in_one_round_trip(
    customer, services, requires_postgres, django_capture_on_commit_callbacks
):
    service = services["default"]
    place(customer, service, "https://x.com/1")
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks():
        order = place(customer, service, "https://x.com/2")

    # One query string: the link's lock, then the statement that probes the link, takes the
    # charge and inserts the order with its ledger row. No savepoint, BEGIN or COMMIT of its own.
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert sql.startswith("SELECT pg_advisory_xact_lock(")
    assert "NOT EXISTS" in sql
    customer.refresh_from_db()
    entry = LedgerEntry.objects.get(order=order)
    assert (entry.amount, entry.balance_after) == (Decimal("-1.50000"), customer.balance)
    assert entry.reason == f"Order {order.pk}"


@pytest.mark.parametrize(
    ("leave", "second_link", "error"),
    [
        ("1.49", "https://x.com/2", "Not enough funds on balance"),
        ("1.50", "https://x.com/1", "You have active order with this link"),
    ],
)
def test_a_refused_placement_writes_nothing(
    customer, services, requires_postgres, leave, second_link, error
):
    service = services["default"]
    place(customer, service, "https://x.com/1")
    customer.refresh_from_db()
    balance_debit(
        user=customer,
        amount=customer.balance - Decimal(leave),
        kind=LedgerEntry.Kind.ADJUSTMENT,
    )
    orders, entries = Order.objects.count(), LedgerEntry.objects.count()

    with pytest.raises(PlacementError) as exc:
        place(customer, service, second_link)

    assert exc.value.api_error.startswith(error)
    assert (Order.objects.count(), LedgerEntry.objects.count()) == (orders, entries)
    customer.refresh_from_db()
    assert customer.balance == Decimal(leave)
