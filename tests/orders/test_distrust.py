"""Issue 10: every provider answer is distrusted. One test per finding, against the simulator."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import LedgerEntry
from catalog.models import Provider, Service
from catalog.services.providers import provider_update
from orders.errors import CancelError, PlacementError
from orders.models import Order, ProviderReconciliation
from orders.services import (
    ReviewError,
    cancel_request,
    order_forward,
    order_forward_cancel,
    order_place,
    order_settle,
    orders_sync_statuses,
    provider_pause,
    provider_reconcile,
    provider_resume,
)
from orders.services.sweeper import orders_sweep
from panel.smmapi import SMMClient
from tests.conftest import fund
from tests.console.helpers import sent_mail
from tests.orders.test_status_sync import open_orders, sent, sync


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Admin", "admin@example.com")]


def upstream(order: Order, sim):
    return sim.state.order(int(order.upstream_order_id))


# Status sync isolation ------------------------------------------------------------------------


def test_it_flags_a_charge_that_no_longer_fits_once_converted(customer, services, provider, sim):
    open_orders(customer, services["default"], sim, 3)
    bad, *good = Order.objects.order_by("pk")
    # A charge the client holds, times the exchange rate, no longer fits the money column
    # (SQLite would store it and then fail to read the row back).
    Provider.objects.filter(pk=provider.pk).update(exchange_rate=Decimal("100000"))
    upstream(bad, sim).charge = Decimal("999999999.00")
    sim.state.advance(50)

    orders_sync_statuses(provider_id=provider.pk)

    bad.refresh_from_db()
    assert (bad.status, bad.cost) == ("in_progress", None)
    assert "exceeds our column" in bad.last_error
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in good])} == {"in_progress"}


def test_it_records_the_rest_of_the_batch_when_the_database_refuses_one_row(
    requires_postgres, customer, services, provider, sim
):
    open_orders(customer, services["default"], sim, 3)
    bad, *good = Order.objects.order_by("pk")
    sim.state.advance(50)
    # A row the database refuses to update to in_progress, whatever the reason (a constraint,
    # a value out of range): here a trigger, so the refusal is the database's own.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '22003'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_row BEFORE UPDATE ON orders_order FOR EACH ROW "
            f"WHEN (NEW.id = {bad.pk} AND NEW.status = 'in_progress') EXECUTE FUNCTION refuse_row()"
        )

    stats = orders_sync_statuses(provider_id=provider.pk)

    bad.refresh_from_db()
    assert (bad.status, bad.review_reason) == ("needs_review", "provider_flagged_value")
    assert "could not record" in bad.last_error
    assert [o.status for o in Order.objects.filter(pk__in=[o.pk for o in good])] == [
        "in_progress",
        "in_progress",
    ]
    assert stats.unrecordable == 1
    # The provider's later runs go on.
    sim.state.finish_all()
    sync(provider)
    assert set(Order.objects.exclude(pk=bad.pk).values_list("status", flat=True)) == {"completed"}


def test_it_keeps_polling_an_order_with_a_value_it_cannot_hold(customer, services, provider, sim):
    order = sent(customer, services["default"])
    other = sent(customer, services["default"], link="https://x.com/b")
    # A views order on a video with 3 billion views: start_count above our column's range.
    sim.state.set_order(int(order.upstream_order_id), status="In progress", start_count=3 * 10**9)
    sim.state.set_order(int(other.upstream_order_id), status="In progress")

    sync(provider)

    order.refresh_from_db()
    other.refresh_from_db()
    assert (order.status, order.start_count) == ("in_progress", None)
    assert "start_count" in order.last_error
    assert other.status == "in_progress"


def test_it_settles_no_money_on_a_final_answer_with_a_flagged_value(
    customer, services, provider, sim
):
    order = sent(customer, services["default"])
    sim.state.set_order(
        int(order.upstream_order_id), status="Partial", remains=400, start_count=3 * 10**9
    )

    sync(provider)

    order.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "provider_flagged_value",
        Decimal(0),
    )
    assert any("start_count" in flag for flag in order.review_data["flags"])
    assert not LedgerEntry.objects.filter(order=order, kind="refund").exists()


def test_it_holds_an_order_whose_upstream_id_does_not_fit(customer, services, provider, sim):
    sim.state.set_knobs(order_id_prefix="ord-" + "7" * 80 + "-")
    order = order_place(
        user=customer,
        service_id=services["default"].pk,
        fields={"link": "https://x.com/a", "quantity": "1000"},
        source="web",
    )

    assert order_forward(order_id=order.pk) == "needs_review"

    order.refresh_from_db()
    upstream_id = order.review_data["upstream_order_id"]
    assert (order.status, order.review_reason, order.upstream_order_id) == (
        "needs_review",
        "upstream_id_too_long",
        "",
    )
    assert upstream_id == f"ord-{'7' * 80}-{sim.state.orders()[0].id}"
    assert sim.state.counts["add"] == 1
    # Never sent again automatically.
    orders_sweep()
    assert sim.state.counts["add"] == 1


# Money on impossible numbers ------------------------------------------------------------------


def test_it_holds_a_partial_whose_charge_disagrees_with_its_remains(
    customer, services, provider, sim
):
    order = sent(customer, services["default"])
    sim.state.advance(5)
    sync(provider)  # the provider's charge before any refund: 1.00
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=400)
    upstream(order, sim).refunded = Decimal(0)  # it keeps charging everything

    sync(provider)

    order.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "impossible_number",
        Decimal(0),
    )
    assert order.review_data == {
        "provider_status": "partial",
        "remains": 400,
        "units": 1000,
        "provider_charge_before": "1.00000",
        "provider_charge_after": "1.00000",
        "provider_charge_expected": "0.60000",
    }


def test_it_holds_a_completed_order_with_more_remains_than_units(customer, services, provider, sim):
    order = sent(customer, services["default"])
    over = sent(customer, services["default"], link="https://x.com/over")
    sim.state.set_order(int(order.upstream_order_id), status="Completed", remains=1500)
    sim.state.set_order(int(over.upstream_order_id), status="Completed", remains=-20)

    sync(provider)

    order.refresh_from_db()
    over.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "impossible_number",
        Decimal(0),
    )
    assert order.review_data == {"provider_status": "completed", "remains": 1500, "units": 1000}
    # Over-delivery (negative remains) is an ordinary Completed.
    assert (over.status, over.refunded) == ("completed", Decimal(0))


def test_it_settles_a_partial_whose_charge_agrees_and_books_the_provider_refund(
    customer, services, provider, sim
):
    order = sent(customer, services["default"])
    sim.state.advance(5)
    sync(provider)
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=400)

    sync(provider)

    order.refresh_from_db()
    assert (order.status, order.refunded, order.cost, order.provider_refunded) == (
        "partial",
        Decimal("0.60000"),
        Decimal("0.60000"),
        Decimal("0.40000"),
    )


def test_it_refunds_a_partial_package_in_the_providers_share(customer, services, provider, sim):
    order = order_place(
        user=customer,
        service_id=services["package"].pk,
        fields={"link": "https://x.com/p"},
        source="web",
    )
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    sync(provider)  # charge before: 5.00
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=0)
    upstream(order, sim).refunded = Decimal("2.00")  # it gave back 40 %

    sync(provider)

    order.refresh_from_db()
    # Charged 7.50; 40 % of it back.
    assert (order.status, order.charge, order.refunded) == (
        "partial",
        Decimal("7.50000"),
        Decimal("3.00000"),
    )


def test_it_holds_an_expired_subscription_whose_charge_disagrees(customer, services, provider, sim):
    order = order_place(
        user=customer,
        service_id=services["subscription"].pk,
        fields={"username": "someone", "min": "10", "max": "100", "posts": "5"},
        source="web",
    )
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    sync(provider)
    # Remains are posts: 2 of 5 undelivered, yet the provider refunds nothing.
    sim.state.set_order(int(order.upstream_order_id), status="Expired", remains=2)
    upstream(order, sim).refunded = Decimal(0)

    sync(provider)

    order.refresh_from_db()
    assert (order.status, order.review_reason, order.refunded) == (
        "needs_review",
        "impossible_number",
        Decimal(0),
    )
    assert (order.review_data["remains"], order.review_data["units"]) == (2, 5)


def test_it_counts_a_providers_partial_refund_once_in_reconciliation(
    customer, services, provider, sim
):
    today = timezone.now().date()
    ProviderReconciliation.objects.create(
        provider=provider, day=today - dt.timedelta(days=1), closing_balance=Decimal("1000.00")
    )
    order = sent(customer, services["default"])
    sync(provider)
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=400)
    sync(provider)

    report = provider_reconcile(provider_id=provider.pk, day=today)

    # Charged 1.00, refunded 0.40 by the provider: the balance moved 0.60.
    assert (report.recorded_cost, report.recorded_refunds, report.discrepancy) == (
        Decimal("1.00000"),
        Decimal("0.40000"),
        Decimal("0.00000"),
    )


# Provider pauses ------------------------------------------------------------------------------


def test_it_holds_a_flapping_provider_paused_with_one_alert(provider, admins):
    for _ in range(4):
        provider_pause(provider=provider, reason="Not enough funds on balance")
        provider_resume(provider_id=provider.pk)

    provider.refresh_from_db()
    assert (provider.is_paused, provider.pause_held, provider.pause_count) == (True, True, 4)
    assert [m.subject for m in sent_mail()] == [
        "[Upline] Provider Sim paused: Not enough funds on balance",
        "[Upline] Provider Sim held paused: paused 4 times in an hour",
    ]
    assert provider_resume(provider_id=provider.pk) is False

    provider_update(provider_id=provider.pk, is_paused=False)
    provider.refresh_from_db()
    assert (provider.is_paused, provider.pause_held, provider.pause_count) == (False, False, 0)


# Unlimited subscriptions ----------------------------------------------------------------------


def unlimited(user, service) -> Order:
    return order_place(
        user=user,
        service_id=service.pk,
        fields={"username": "someone", "min": "10", "max": "1000"},  # 3.00 a post
        source="web",
    )


def test_it_refuses_unlimited_posts_on_a_service_without_cancel(customer, services):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=False
    )
    with pytest.raises(PlacementError) as exc:
        unlimited(customer, services["subscription"])
    assert exc.value.field == "posts"


def test_it_holds_an_unlimited_subscription_whose_cancel_is_refused(
    other_user, services, provider, sim, admins, django_capture_on_commit_callbacks
):
    # Our row says the provider cancels; this provider refuses ("Order can't be canceled").
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = unlimited(other_user, services["subscription"])
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    sim.state.set_order(int(order.upstream_order_id), status="Active", posts=20)
    with django_capture_on_commit_callbacks(execute=False):
        sync(provider)
    assert order_forward_cancel(order_id=order.pk) == "rejected"

    order.refresh_from_db()
    assert (order.status, order.review_reason, order.charge) == (
        "needs_review",
        "unbilled_posts",
        Decimal("48.00000"),  # 50.00 covers 16 posts
    )
    assert [m.subject for m in sent_mail()] == [
        f"[Upline] Order {order.pk}: subscription out of balance may keep delivering"
    ]

    # It keeps delivering: still polled, charged as far as the balance goes, the rest owed.
    sim.state.set_order(int(order.upstream_order_id), posts=500)
    fund(other_user, "30.00")
    sync(provider)
    order.refresh_from_db()
    other_user.refresh_from_db()
    assert (order.charge, order.posts_delivered, other_user.balance) == (
        Decimal("78.00000"),
        500,
        Decimal("2.00000"),
    )
    assert (order.review_data["owed_posts"], order.review_data["owed"]) == (474, "1422.00000")


# Smaller --------------------------------------------------------------------------------------


def test_it_forwards_a_cancel_asked_while_the_order_was_being_sent(
    customer, services, provider, sim, django_capture_on_commit_callbacks
):
    order = order_place(
        user=customer,
        service_id=services["default"].pk,
        fields={"link": "https://x.com/a", "quantity": "1000"},
        source="web",
    )
    real_add = SMMClient.add

    def add_while_customer_cancels(client, *args, **kwargs):
        assert cancel_request(user=customer, order_id=order.pk).cancel_status == "requested"
        return real_add(client, *args, **kwargs)

    with (
        mock.patch.object(SMMClient, "add", add_while_customer_cancels),
        mock.patch("orders.tasks.forward_cancel.delay") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert order_forward(order_id=order.pk) == "sent"
    assert enqueued.call_args_list == [mock.call(order.pk), mock.call(order.pk)]

    assert order_forward_cancel(order_id=order.pk) == "sent"
    assert upstream(Order.objects.get(pk=order.pk), sim).status == "Canceled"
    with pytest.raises(CancelError):
        cancel_request(user=customer, order_id=order.pk)


def test_it_seeds_periodic_schedules_once_and_keeps_an_admins_edit(transactional_db):
    # Not `db`: the scheduler commits and reopens connections as beat does.
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from panel.beat import SeedOnceScheduler
    from panel.celery import app

    SeedOnceScheduler(app=app)
    sweep = PeriodicTask.objects.get(name="orders-sweep")
    assert (sweep.interval.every, sweep.interval.period) == (30, "seconds")
    slower, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.filter(pk=sweep.pk).update(interval=slower, enabled=False)

    SeedOnceScheduler(app=app)  # beat restarts

    sweep.refresh_from_db()
    assert (sweep.interval.every, sweep.interval.period, sweep.enabled) == (2, "minutes", False)


def test_it_lets_staff_settle_a_held_order_once(customer, services, provider, sim, admin_user):
    order = sent(customer, services["default"])
    sim.state.set_order(int(order.upstream_order_id), status="Partial", remains=1570)
    sync(provider)
    with pytest.raises(ReviewError):
        order_settle(order_id=order.pk, staff=admin_user, status="partial", remains=1570)

    order = order_settle(order_id=order.pk, staff=admin_user, status="partial", remains=400)

    assert (order.status, order.remains, order.refunded) == ("partial", 400, Decimal("0.60000"))
    with pytest.raises(ReviewError):
        order_settle(order_id=order.pk, staff=admin_user, status="canceled", remains=0)
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


def test_it_holds_an_unlimited_subscription_whose_cancel_has_an_unknown_outcome(
    other_user, services, provider, sim, django_capture_on_commit_callbacks
):
    Service.objects.filter(pk=services["subscription"].pk).update(
        allow_unlimited_posts=True, cancel=True
    )
    order = unlimited(other_user, services["subscription"])
    order_forward(order_id=order.pk)
    order.refresh_from_db()
    sim.state.set_order(int(order.upstream_order_id), status="Active", posts=20)
    with django_capture_on_commit_callbacks(execute=False):
        sync(provider)
    sim.state.set_knobs(http_5xx_rate=1, actions=["cancel"])

    order_forward_cancel(order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.review_reason, order.cancel_status) == (
        "needs_review",
        "unbilled_posts",
        "sent",
    )


def test_it_polls_the_other_orders_when_a_batch_is_refused_for_one_id(
    customer, services, provider, sim
):
    open_orders(customer, services["default"], sim, 5)
    bad = Order.objects.order_by("pk")[2]
    Order.objects.filter(pk=bad.pk).update(upstream_order_id="999999")  # unknown upstream
    sim.state.set_knobs(reject_batch_on_bad_id=True)
    sim.state.advance(50)

    stats = orders_sync_statuses(provider_id=provider.pk)

    bad.refresh_from_db()
    assert (bad.status, bad.last_error) == ("sent", "Status: Incorrect order ID")
    assert (
        list(Order.objects.exclude(pk=bad.pk).values_list("status", flat=True))
        == ["in_progress"] * 4
    )
    assert stats.failed_calls == 0
