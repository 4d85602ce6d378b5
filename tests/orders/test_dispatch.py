"""Forwarding in batches (orders.services.dispatch): claim, send concurrently, record in bulk."""

import datetime as dt
import threading
import time
from collections import Counter
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import LedgerEntry, User
from catalog.models import Provider, Service
from orders.models import Order
from orders.services import dispatch, order_place
from orders.services.dispatch import orders_claim, provider_forward, provider_wake
from panel.smmapi import Rejected, RejectReason, UnknownOutcome
from simulator import Simulator
from tests.conftest import fund
from tests.factories import UserFactory


def place_many(user: User, service: Service, count: int, prefix: str = "a") -> list[Order]:
    return [
        order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"https://x.com/{prefix}{i}", "quantity": "100"},
            source="api_v2",
        )
        for i in range(count)
    ]


@override_settings(ORDERS_FORWARD_BATCH_SIZE=2, ORDERS_FORWARD_CONCURRENCY=3)
def test_it_sends_every_due_order_of_the_provider(customer, services, sim: Simulator):
    orders = place_many(customer, services["default"], 5)
    later = place_many(customer, services["default"], 1, prefix="later")[0]
    Order.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + dt.timedelta(hours=1))

    assert provider_forward(provider_id=services["default"].provider_id) == Counter(sent=5)

    upstream = {o.link: str(o.id) for o in sim.state.orders()}
    rows = Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk")
    assert [(o.status, o.upstream_order_id, o.attempts) for o in rows] == [
        ("sent", upstream[o.link], 1) for o in rows
    ]
    assert all(o.sent_at is not None and o.sending_since is None for o in rows)
    assert sim.state.counts["add"] == 5
    assert Order.objects.get(pk=later.pk).status == "queued"  # not due yet


@override_settings(ORDERS_FORWARD_CONCURRENCY=1)  # one pool thread: answers in claim order
def test_it_records_each_failure_as_a_single_forward_would(customer, services):
    rejected, unknown, sent = place_many(customer, services["default"], 3)
    answers = [
        Rejected("Incorrect link", reason=RejectReason.BAD_LINK),
        UnknownOutcome("Server error", http_status=502, body_head="<html>"),
        "777",
    ]
    with mock.patch("panel.smmapi.SMMClient.add", side_effect=answers):
        outcomes = provider_forward(provider_id=rejected.provider_id)

    assert outcomes == Counter(failed=1, needs_review=1, sent=1)
    rejected.refresh_from_db()
    unknown.refresh_from_db()
    sent.refresh_from_db()
    assert (rejected.status, rejected.last_error) == ("failed", "Incorrect link")
    assert LedgerEntry.objects.filter(order=rejected, kind=LedgerEntry.Kind.REFUND).count() == 1
    assert (unknown.status, unknown.review_reason) == ("needs_review", "unknown_outcome")
    assert not LedgerEntry.objects.filter(order=unknown, kind=LedgerEntry.Kind.REFUND).exists()
    assert (sent.status, sent.upstream_order_id) == ("sent", "777")


@override_settings(ORDERS_FORWARD_CONCURRENCY=1)
def test_it_holds_an_order_whose_id_another_order_has_and_records_the_rest(customer, services):
    holder = place_many(customer, services["default"], 1, prefix="holder")[0]
    Order.objects.filter(pk=holder.pk).update(status="in_progress", upstream_order_id="42")
    fresh, clashing = place_many(customer, services["default"], 2)
    with mock.patch("panel.smmapi.SMMClient.add", side_effect=["43", "42"]):
        outcomes = provider_forward(provider_id=fresh.provider_id)
    # The bulk UPDATE hit the unique upstream id; each order was then recorded on its own.
    assert outcomes == Counter(sent=1, needs_review=1)
    fresh.refresh_from_db()
    clashing.refresh_from_db()
    assert (fresh.status, fresh.upstream_order_id) == ("sent", "43")
    assert (clashing.status, clashing.review_reason) == ("needs_review", "duplicate_upstream_id")


def test_it_leaves_a_paused_providers_orders_queued(customer, services, sim: Simulator):
    order = place_many(customer, services["default"], 1)[0]
    Provider.objects.filter(pk=order.provider_id).update(is_paused=True)
    assert provider_forward(provider_id=order.provider_id) == Counter()
    assert Order.objects.get(pk=order.pk).status == "queued"
    assert sim.state.counts["add"] == 0


def test_it_sends_a_new_wake_up_once_the_worker_has_started(customer, services, sim: Simulator):
    provider_id = services["default"].provider_id
    with mock.patch("orders.tasks.forward_provider.delay") as delay:
        provider_wake(provider_id)
        provider_wake(provider_id)
        provider_forward(provider_id=provider_id)  # lowers the flag before its last claim
        provider_wake(provider_id)
    if connection.vendor == "postgresql":  # with Redis: one message per burst
        assert delay.call_count == 2


def test_it_does_not_ask_redis_again_for_a_flag_it_saw_up_a_moment_ago(
    requires_postgres, services, sim: Simulator
):
    provider_id = services["default"].provider_id
    with (
        mock.patch("orders.tasks.forward_provider.delay") as delay,
        mock.patch.object(dispatch, "cache_client", wraps=dispatch.cache_client) as redis,
        mock.patch.object(dispatch, "WAKE_TRUST_SECONDS", 60.0),
    ):
        provider_wake(provider_id)  # the flag was down: raised, one message
        provider_wake(provider_id)  # seen up a moment ago: neither Redis nor a message
        dispatch.forget_wake_flags()
        provider_wake(provider_id)  # not seen lately: asks Redis, which says it is up
    assert (redis.call_count, delay.call_count) == (2, 1)


@pytest.mark.django_db(transaction=True)
@override_settings(ORDERS_FORWARD_LINGER_SECONDS=0)
def test_a_drain_still_sends_an_order_placed_without_a_wake_up_after_it_lowered_the_flag(
    requires_postgres, services, sim: Simulator
):
    user = UserFactory()
    fund(user, "10.00")
    provider_id = services["default"].provider_id
    flag = cache.make_key(dispatch._wake_key(provider_id))
    with (
        mock.patch("orders.tasks.forward_provider.delay") as delay,
        mock.patch.object(dispatch, "WAKE_TRUST_SECONDS", 3.0),
    ):
        provider_wake(provider_id)  # this process sees the flag up
        drain = threading.Thread(
            target=lambda: (provider_forward(provider_id=provider_id), connection.close())
        )
        drain.start()
        deadline = time.monotonic() + 10
        while dispatch.cache_client(cache).exists(flag) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the drain, finding nothing, lowers the flag
        [order] = place_many(user, services["default"], 1)  # trusts the flag: no wake-up
        drain.join()
    assert delay.call_count == 1
    assert Order.objects.get(pk=order.pk).status == "sent"  # the drain's last claim took it
    assert sim.state.counts["add"] == 1


def test_a_claim_takes_no_more_than_its_limit_when_statistics_are_stale(
    requires_postgres, customer, services
):
    # The statistics say no order is queued (a backlog built while the provider was paused):
    # the claim must still take its limit, not every queued order.
    orders = place_many(customer, services["default"], 40)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status="in_progress")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Order._meta.db_table}")
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status="queued")

    batch = orders_claim(provider_id=orders[0].provider_id, limit=5)

    assert [claimed.id for claimed in batch] == [o.pk for o in orders[:5]]
    assert Order.objects.filter(status="sending").count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_take_disjoint_orders(requires_postgres, services, sim: Simulator):
    user = UserFactory()
    fund(user, "100.00")
    orders = place_many(user, services["default"], 60)
    provider_id = orders[0].provider_id
    barrier = threading.Barrier(4)
    taken: list[list[int]] = []

    def worker() -> None:
        mine: list[int] = []
        try:
            barrier.wait()
            while batch := orders_claim(provider_id=provider_id, limit=7):
                mine.extend(c.id for c in batch)
        finally:
            taken.append(mine)
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [order_id for mine in taken for order_id in mine]
    assert sorted(every) == sorted(o.pk for o in orders)  # each claimed once, none left
    assert set(Order.objects.values_list("status", "attempts")) == {("sending", 1)}


def test_it_still_sends_and_records_when_redis_is_away(customer, services, sim: Simulator):
    orders = place_many(customer, services["default"], 3)
    with mock.patch("orders.services.dispatch.cache_client", side_effect=ConnectionError("down")):
        outcomes = provider_forward(provider_id=orders[0].provider_id)
    assert outcomes == Counter(sent=3)
    assert set(Order.objects.values_list("status", flat=True)) == {"sent"}
    assert sim.state.counts["add"] == 3


def test_it_records_the_batch_again_when_the_database_connection_drops(
    requires_postgres, transactional_db, customer, services, sim: Simulator
):
    orders = place_many(customer, services["default"], 3)
    real = dispatch._record_sent
    calls = []

    def drop_connection_first(accepted):
        calls.append(len(accepted))
        if len(calls) == 1:
            with connection.cursor() as cursor:
                # The server ends this session, as a restart or a failover would.
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real(accepted)

    with mock.patch.object(dispatch, "_record_sent", drop_connection_first):
        outcomes = provider_forward(provider_id=services["default"].provider_id)

    assert outcomes == Counter(sent=3)
    assert calls == [3, 3]
    rows = Order.objects.filter(pk__in=[o.pk for o in orders])
    assert {(o.status, o.review_reason) for o in rows} == {("sent", "")}
    assert sim.state.counts["add"] == 3
