from decimal import Decimal

import pytest
from django.test import override_settings

from accounts.models import LedgerEntry, User
from catalog.models import Service, UserRate
from orders.errors import PlacementError
from orders.models import Order
from orders.services import order_place, order_quote


def place(user: User, service: Service, **fields: str) -> Order:
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def test_it_charges_and_creates_the_order(customer, services, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order = place(customer, services["default"], link="https://x.com/a", quantity="1000")
    assert len(callbacks) == 1  # the forward task, enqueued on commit
    order.refresh_from_db()
    customer.refresh_from_db()
    assert order.status == Order.Status.QUEUED
    assert order.charge == Decimal("1.50000")
    assert order.rate == Decimal("1.50000")
    assert order.provider_id == services["default"].provider_id
    assert order.upstream_service_id == "1"
    assert order.fields == {"link": "https://x.com/a", "quantity": "1000"}
    assert customer.balance == Decimal("98.50000")
    entry = LedgerEntry.objects.get(order=order)
    assert (entry.kind, entry.amount) == ("order_charge", Decimal("-1.50000"))


def test_it_quotes_without_writing(customer, services):
    price = order_quote(
        user=customer,
        service_id=services["default"].pk,
        fields={"link": "https://x.com/a", "quantity": "333"},
    )
    assert price == Decimal("0.49950")
    assert Order.objects.count() == 0


def test_it_charges_drip_feed_quantity_times_runs(customer, services):
    order = place(
        customer,
        services["default"],
        link="https://x.com/a",
        quantity="100",
        runs="5",
        interval="30",
    )
    assert (order.runs, order.interval, order.units) == (5, 30, 500)
    assert order.charge == Decimal("0.75000")
    assert order.fields == {
        "link": "https://x.com/a",
        "quantity": "100",
        "runs": "5",
        "interval": "30",
    }


def test_it_refuses_drip_feed_on_a_service_without_it(customer, services):
    with pytest.raises(PlacementError) as exc:
        place(
            customer,
            services["norefill"],
            link="https://x.com/a",
            quantity="100",
            runs="2",
            interval="5",
        )
    assert (exc.value.api_error, exc.value.field) == ("Incorrect request", "runs")


def test_it_charges_packages_flat(customer, services):
    order = place(customer, services["package"], link="https://x.com/a", quantity="999")
    assert (order.charge, order.quantity) == (Decimal("7.50000"), 1)
    assert order.fields == {"link": "https://x.com/a"}


def test_it_counts_custom_comments(customer, services):
    order = place(customer, services["comments"], link="https://x.com/p", comments="a\r\nb\n\nc")
    assert order.quantity == 3
    assert order.fields["comments"] == "a\nb\nc"
    assert order.charge == Decimal("0.04500")


def test_it_refuses_comments_not_matching_quantity(customer, services):
    with pytest.raises(PlacementError) as exc:
        place(customer, services["comments"], link="https://x.com/p", comments="a\nb", quantity="5")
    assert exc.value.field == "quantity"


@pytest.mark.parametrize(
    ("fields", "api_error", "field"),
    [
        ({"link": "ftp://x.com/a", "quantity": "100"}, "Incorrect link", "link"),
        ({"link": "not a url", "quantity": "100"}, "Incorrect link", "link"),
        ({"link": "https://x.com/\x00", "quantity": "100"}, "Incorrect link", "link"),
        ({"link": "https://x.com/" + "a" * 2001, "quantity": "100"}, "Incorrect link", "link"),
        ({"quantity": "100"}, "Incorrect link", "link"),
        ({"link": "https://x.com/a", "quantity": "9"}, "Quantity less than minimal 10", "quantity"),
        (
            {"link": "https://x.com/a", "quantity": "10001"},
            "Quantity more than maximum 10000",
            "quantity",
        ),
        ({"link": "https://x.com/a", "quantity": "ten"}, "Incorrect request", "quantity"),
        ({"link": "https://x.com/a"}, "Incorrect request", "quantity"),
    ],
)
def test_it_refuses_bad_fields(customer, services, fields, api_error, field):
    with pytest.raises(PlacementError) as exc:
        order_place(user=customer, service_id=services["default"].pk, fields=fields, source="web")
    assert (exc.value.api_error, exc.value.field) == (api_error, field)
    assert Order.objects.count() == 0
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")


@pytest.mark.parametrize("service_id", [0, 999999, "abc", None])
def test_it_refuses_unknown_services(customer, services, service_id):
    with pytest.raises(PlacementError) as exc:
        order_place(user=customer, service_id=service_id, fields={}, source="web")
    assert exc.value.api_error == "Incorrect service ID"


def test_it_refuses_disabled_services(customer, services):
    Service.objects.filter(pk=services["default"].pk).update(is_enabled=False)
    with pytest.raises(PlacementError) as exc:
        place(customer, services["default"], link="https://x.com/a", quantity="100")
    assert exc.value.api_error == "Incorrect service ID"


def test_it_refuses_without_funds_and_writes_nothing(other_user, services):
    with pytest.raises(PlacementError) as exc:
        place(
            other_user,
            services["default"],
            link="https://x.com/a",
            quantity="10000",
            runs="5",
            interval="1",
        )
    assert exc.value.api_error == "Not enough funds on balance"
    assert Order.objects.count() == 0
    other_user.refresh_from_db()
    assert other_user.balance == Decimal("50.00000")


def test_it_uses_the_users_custom_rate(reseller, services):
    UserRate.objects.create(user=reseller, service=services["default"], rate=Decimal("1.10"))
    order = place(reseller, services["default"], link="https://x.com/a", quantity="1000")
    assert (order.rate, order.charge) == (Decimal("1.10000"), Decimal("1.10000"))


def test_it_refuses_a_second_active_order_on_a_link(customer, services):
    place(customer, services["default"], link="https://x.com/a", quantity="100")
    with pytest.raises(PlacementError) as exc:
        place(customer, services["default"], link="https://x.com/a", quantity="100")
    assert exc.value.api_error == (
        "You have active order with this link. Please wait until order being completed."
    )
    assert Order.objects.count() == 1


@override_settings(ORDERS_DUPLICATE_LINK_GUARD=False)
def test_it_allows_a_second_order_on_a_link_when_the_guard_is_off(customer, services):
    place(customer, services["default"], link="https://x.com/a", quantity="100")
    place(customer, services["default"], link="https://x.com/a", quantity="100")
    assert Order.objects.count() == 2


def test_it_returns_the_original_order_for_a_repeated_idempotency_key(customer, services):
    fields = {"link": "https://x.com/a", "quantity": "100"}
    first = order_place(
        user=customer,
        service_id=services["default"].pk,
        fields=fields,
        source="api_v2",
        idempotency_key="k1",
    )
    again = order_place(
        user=customer,
        service_id=services["default"].pk,
        fields=fields,
        source="api_v2",
        idempotency_key="k1",
    )
    assert again.pk == first.pk
    assert LedgerEntry.objects.filter(kind="order_charge").count() == 1
    with pytest.raises(PlacementError) as exc:
        order_place(
            user=customer,
            service_id=services["default"].pk,
            fields={**fields, "quantity": "200"},
            source="api_v2",
            idempotency_key="k1",
        )
    assert exc.value.api_error == "Incorrect request"


def test_it_validates_every_type(customer, services):
    poll = place(
        customer, services["poll"], link="https://x.com/p", quantity="100", answer_number="2"
    )
    assert poll.fields == {"link": "https://x.com/p", "quantity": "100", "answer_number": "2"}
    with pytest.raises(PlacementError):
        place(customer, services["poll"], link="https://x.com/q", quantity="100", answer_number="0")
    mentions = place(
        customer, services["mentions"], link="https://x.com/m", quantity="100", usernames="@a\n@b"
    )
    assert mentions.fields["usernames"] == "@a\n@b"
    with pytest.raises(PlacementError) as exc:
        place(customer, services["mentions"], link="https://x.com/n", quantity="100")
    assert exc.value.field == "usernames"


def test_it_charges_subscriptions_posts_times_max(customer, services):
    order = place(
        customer,
        services["subscription"],
        username="someone",
        min="10",
        max="100",
        posts="5",
        delay="30",
    )
    # 5 posts × 100 × 3.00 / 1000
    assert (order.charge, order.quantity, order.link) == (Decimal("1.50000"), 5, "someone")
    assert order.fields == {
        "username": "someone",
        "min": "10",
        "max": "100",
        "posts": "5",
        "delay": "30",
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "someone", "min": "10", "max": "100"}, "posts"),
        ({"username": "someone", "min": "100", "max": "10", "posts": "1"}, "min"),
        ({"username": "someone", "min": "10", "max": "100", "posts": "1", "delay": "7"}, "delay"),
        (
            {
                "username": "someone",
                "min": "10",
                "max": "100",
                "posts": "1",
                "expiry": "01/01/2000",
            },
            "expiry",
        ),
        ({"username": "so meone", "min": "10", "max": "100", "posts": "1"}, "username"),
    ],
)
def test_it_refuses_bad_subscriptions(customer, services, fields, field):
    with pytest.raises(PlacementError) as exc:
        place(customer, services["subscription"], **fields)
    assert exc.value.field == field


def test_it_accepts_unlimited_subscriptions_when_the_service_allows(customer, services):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = place(customer, services["subscription"], username="someone", min="10", max="100")
    assert (order.charge, order.unlimited_posts) == (Decimal("0"), True)
    assert not LedgerEntry.objects.filter(order=order).exists()
