import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from accounts.models import LedgerEntry
from catalog.models import Provider, Service
from orders.models import Order, ProviderReconciliation
from orders.services import (
    ReviewError,
    order_attach_upstream,
    order_cancel_and_refund,
    order_forward,
    order_place,
    order_resend,
    orders_sync_statuses,
    provider_reconcile,
)
from orders.services.subscriptions import PAUSED_MESSAGE, subscription_charge_posts
from tests.conftest import fund


def subscribe(user, service, **fields) -> Order:
    fields = {"username": "someone", "min": "10", "max": "100", **fields}
    return order_place(user=user, service_id=service.pk, fields=fields, source="web")


def test_it_runs_a_subscription_and_refunds_undelivered_posts(customer, services, provider, sim):
    order = subscribe(customer, services["subscription"], posts="5")
    assert order_forward(order_id=order.pk) == "sent"
    order.refresh_from_db()
    upstream = sim.state.order(int(order.upstream_order_id))
    assert upstream.fields == {"min": "10", "max": "100", "posts": "5"}
    sim.state.advance(50)
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ACTIVE
    sim.state.set_order(upstream.id, status="Expired", remains=2)
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    # Charged 5 posts × 100 × 3.00/1000 = 1.50; 2 posts undelivered = 0.60 back.
    assert (order.status, order.charge, order.refunded) == (
        "expired",
        Decimal("1.50000"),
        Decimal("0.60000"),
    )


@pytest.fixture
def unlimited(customer, services) -> Order:
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = subscribe(customer, services["subscription"])
    Order.objects.filter(pk=order.pk).update(status="active", upstream_order_id="1")
    order.refresh_from_db()
    return order


def test_it_charges_unlimited_subscriptions_per_delivered_post(customer, unlimited):
    assert subscription_charge_posts(order=unlimited, delivered=3).charged == 3
    assert subscription_charge_posts(order=unlimited, delivered=3).charged == 0
    Order.objects.filter(pk=unlimited.pk).update(
        charge=unlimited.charge, posts_delivered=unlimited.posts_delivered
    )
    customer.refresh_from_db()
    # A post costs max (100) units at 3.00 per 1000 = 0.30.
    assert (unlimited.charge, customer.balance) == (Decimal("0.90000"), Decimal("99.10000"))
    entry = LedgerEntry.objects.get(order=unlimited)
    assert (entry.kind, entry.amount) == ("subscription_charge", Decimal("-0.90000"))


def test_it_pauses_an_unlimited_subscription_when_the_balance_runs_out(
    other_user, services, provider, sim
):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = subscribe(other_user, services["subscription"], max="1000")  # 3.00 a post
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    sim.state.set_order(int(order.upstream_order_id), status="Active", posts=20)
    with mock.patch("orders.tasks.forward_cancel.delay"):
        orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    # 50.00 covers 16 posts.
    assert (order.charge, order.status, order.posts_delivered) == (
        Decimal("48.00000"),
        "paused",
        20,
    )
    assert (order.cancel_status, order.customer_message) == ("requested", PAUSED_MESSAGE)


def test_it_refuses_an_unlimited_subscription_without_funds_for_one_post(services):
    from tests.factories import UserFactory

    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    poor = UserFactory()
    fund(poor, "0.10")
    from orders.errors import PlacementError

    with pytest.raises(PlacementError) as exc:
        subscribe(poor, services["subscription"])
    assert exc.value.api_error == "Not enough funds on balance"


@pytest.fixture
def review(customer, services, sim) -> Order:
    sim.state.set_knobs(http_5xx_rate=1, http_5xx_after=True)
    order = order_place(
        user=customer,
        service_id=services["default"].pk,
        fields={"link": "https://x.com/r", "quantity": "1000"},
        source="web",
    )
    assert order_forward(order_id=order.pk) == "needs_review"
    sim.state.set_knobs(http_5xx_rate=0)
    return order


def test_it_attaches_an_upstream_id(review, admin_user, provider, sim):
    upstream = sim.state.orders()[0]
    order = order_attach_upstream(
        order_id=review.pk, upstream_order_id=f" {upstream.id} ", staff=admin_user
    )
    assert (order.status, order.upstream_order_id) == ("sent", str(upstream.id))
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    assert order.status == "completed"
    with pytest.raises(ReviewError):
        order_attach_upstream(order_id=review.pk, upstream_order_id="1", staff=admin_user)


def test_it_resends_a_reviewed_order(review, admin_user, sim, django_capture_on_commit_callbacks):
    sim.state.reset()
    with (
        mock.patch("orders.tasks.forward_order.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = order_resend(order_id=review.pk, staff=admin_user)
    delay.assert_called_once_with(review.pk)
    assert order.status == "queued"
    assert order_forward(order_id=review.pk) == "sent"


def test_it_cancels_and_refunds_a_reviewed_order_once(review, admin_user, customer):
    order = order_cancel_and_refund(order_id=review.pk, staff=admin_user, reason="not upstream")
    assert (order.status, order.refunded) == ("canceled", Decimal("1.50000"))
    with pytest.raises(ReviewError):
        order_cancel_and_refund(order_id=review.pk, staff=admin_user)
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")


def test_it_reconciles_a_provider_day(customer, services, provider, sim):
    day = timezone.now().date()
    Provider.objects.filter(pk=provider.pk).update(exchange_rate=Decimal("2"))
    provider.refresh_from_db()
    ProviderReconciliation.objects.create(
        provider=provider, day=day - dt.timedelta(days=1), closing_balance=Decimal("2000.00")
    )
    orders = []
    for i in range(3):
        order = order_place(
            user=customer,
            service_id=services["default"].pk,
            fields={"link": f"https://x.com/{i}", "quantity": "1000"},
            source="web",
        )
        order_forward(order_id=order.pk)
        orders.append(order)
    sim.state.set_order(
        int(Order.objects.get(pk=orders[0].pk).upstream_order_id), status="Canceled"
    )
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    report = provider_reconcile(provider_id=provider.pk, day=day)
    # Three orders at 1.00 upstream (×2 = 2.00 each); one canceled and refunded by the provider.
    assert (report.orders_sent, report.recorded_cost, report.recorded_refunds) == (
        3,
        Decimal("6.00000"),
        Decimal("2.00000"),
    )
    # Simulator balance 1000 - 2 = 998 upstream = 1996 here; movement 4 = net cost 4.
    assert report.closing_balance == Decimal("1996.00000")
    assert report.discrepancy == Decimal("0.00000")
    # An unexplained provider charge shows up.
    sim.state.set_balance("997.00")
    report.closing_balance = None
    report.save()
    ProviderReconciliation.objects.filter(pk=report.pk).update(closing_balance=None)
    report = provider_reconcile(provider_id=provider.pk, day=day)
    assert report.discrepancy == Decimal("2.00000")
