"""``/metrics`` for Prometheus: token-protected (UPLINE_METRICS_TOKEN), answered by
``panel.health.ProbeMiddleware``.

Two sources, chosen per metric for multi-process gunicorn and Celery:
- Business state is computed from the database (and the broker) at scrape time: orders by
  provider and status, forwarded and failed counts, status-sync lag, catalogue age, queue
  depth, the last ledger check. Any web process gives the same true answer, and nothing is
  lost when a process restarts.
- Provider call counts and latencies happen inside whichever process called (a worker child,
  mostly) and exist nowhere else: those use prometheus-client's multiprocess mode. Each
  program writes its files under its own PROMETHEUS_MULTIPROC_DIR (emptied when the program
  starts, see ``metrics_dir_reset``) and a scrape merges every directory in UPLINE_METRICS_DIRS.

prometheus-client rather than django-prometheus: what operators need here is business state
and provider calls, which django-prometheus does not know either (its request and query
middleware would add work to every /api/v2 request), and its multiprocess support is this same
prometheus-client mode.
"""

from __future__ import annotations

import datetime as dt
import glob
import hmac
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from catalog.models import Provider

# Written by panel.tasks.check_ledger: {"checked_at": iso, "discrepancies": n}.
LEDGER_RESULT_KEY = "upline:ledger-check"
CELERY_QUEUE = "celery"


def broker_queue_depth(queue: str = CELERY_QUEUE) -> int:
    """Messages waiting in the broker queue; raises when the broker cannot be reached."""
    from kombu.exceptions import ChannelError

    from panel.celery import app

    with app.connection_for_read(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        try:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
        except ChannelError:
            return 0  # Redis drops an empty queue's key: nothing waiting


class DatabaseCollector:
    """Business metrics read at scrape time (a handful of aggregate queries)."""

    def collect(self) -> Iterable[Metric]:
        from catalog.models import Provider

        providers = list(Provider.objects.order_by("pk"))
        yield from self._orders({p.pk: p.name for p in providers})
        yield from self._freshness([p for p in providers if p.is_enabled])
        yield from self._ledger()

    def _orders(self, names: dict[int, str]) -> Iterable[Metric]:
        from orders.models import Order

        by_status = GaugeMetricFamily(
            "upline_orders", "Orders by provider and status.", labels=["provider", "status"]
        )
        placed = CounterMetricFamily(
            "upline_orders_placed", "Orders placed, by provider.", labels=["provider"]
        )
        forwarded = CounterMetricFamily(
            "upline_orders_forwarded",
            "Orders the provider accepted (an upstream id is recorded), by provider.",
            labels=["provider"],
        )
        failed = CounterMetricFamily(
            "upline_orders_failed",
            "Orders that failed (refunded), by provider.",
            labels=["provider"],
        )
        review = GaugeMetricFamily(
            "upline_orders_needs_review", "Orders waiting for staff review.", labels=["provider"]
        )
        totals: dict[str, dict[str, int]] = {}
        rows = (
            Order.objects.order_by()
            .values("provider_id", "status")
            .annotate(n=Count("pk"), sent=Count("pk", filter=~Q(upstream_order_id="")))
        )
        for row in rows:
            provider = names.get(row["provider_id"], "none")
            by_status.add_metric([provider, row["status"]], row["n"])
            total = totals.setdefault(provider, {"placed": 0, "sent": 0, "failed": 0, "review": 0})
            total["placed"] += row["n"]
            total["sent"] += row["sent"]
            if row["status"] == Order.Status.FAILED:
                total["failed"] += row["n"]
            if row["status"] == Order.Status.NEEDS_REVIEW:
                total["review"] += row["n"]
        for provider in sorted({*names.values(), *totals}):
            total = totals.get(provider, {"placed": 0, "sent": 0, "failed": 0, "review": 0})
            placed.add_metric([provider], total["placed"])
            forwarded.add_metric([provider], total["sent"])
            failed.add_metric([provider], total["failed"])
            review.add_metric([provider], total["review"])
        yield from (by_status, placed, forwarded, failed, review)

    def _freshness(self, providers: list[Provider]) -> Iterable[Metric]:
        from panel.health import oldest_open_orders, status_poll_lag

        now = timezone.now()
        oldest_open = oldest_open_orders()
        lag = GaugeMetricFamily(
            "upline_status_sync_lag_seconds",
            "Seconds the open orders of a provider have waited for a complete status poll "
            "(0 without open orders).",
            labels=["provider"],
        )
        catalogue = GaugeMetricFamily(
            "upline_catalogue_sync_age_seconds",
            "Seconds since the provider's last successful catalogue sync.",
            labels=["provider"],
        )
        for provider in providers:
            waited = status_poll_lag(
                now, polled=provider.last_status_sync_at, oldest_open=oldest_open.get(provider.pk)
            )
            lag.add_metric([provider.name], waited.total_seconds() if waited else 0.0)
            catalogue.add_metric([provider.name], _age(now, provider.last_synced_at))
        yield from (lag, catalogue)

    def _ledger(self) -> Iterable[Metric]:
        ledger = cache.get(LEDGER_RESULT_KEY)
        if ledger is not None:
            yield GaugeMetricFamily(
                "upline_ledger_discrepancies",
                "Discrepancies found by the last periodic ledger check (0 is healthy).",
                value=ledger["discrepancies"],
            )
            yield GaugeMetricFamily(
                "upline_ledger_checked_timestamp_seconds",
                "When the ledger was last checked (Unix time).",
                value=dt.datetime.fromisoformat(ledger["checked_at"]).timestamp(),
            )


def _age(now: dt.datetime, then: dt.datetime | None) -> float:
    # Never happened: +Inf, so an alert on "age > X" fires.
    return (now - then).total_seconds() if then else float("inf")


class BrokerCollector:
    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "upline_queue_depth",
            "Messages waiting in the broker queue (-1: the broker cannot be reached).",
            labels=["queue"],
        )
        try:
            depth.add_metric([CELERY_QUEUE], broker_queue_depth())
        except Exception:
            depth.add_metric([CELERY_QUEUE], -1)
        yield depth


class MergedFilesCollector:
    """prometheus-client's multiprocess files of several programs' directories, merged."""

    def __init__(self, directories: list[str]) -> None:
        self.directories = directories

    def collect(self) -> Iterable[Metric]:
        files = [f for d in self.directories for f in glob.glob(os.path.join(d, "*.db"))]
        return MultiProcessCollector.merge(files, accumulate=True)


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if settings.UPLINE_METRICS_DIRS:
        registry.register(MergedFilesCollector(list(settings.UPLINE_METRICS_DIRS)))
    else:
        registry.register(REGISTRY)  # this process's own instruments (development)
    registry.register(DatabaseCollector())
    registry.register(BrokerCollector())
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.UPLINE_METRICS_TOKEN
    if not token:
        return HttpResponse("Metrics are off: set UPLINE_METRICS_TOKEN.", status=404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("Send Authorization: Bearer <UPLINE_METRICS_TOKEN>.", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


def metrics_dir_reset() -> None:
    """Empty this program's PROMETHEUS_MULTIPROC_DIR at its start (gunicorn, Celery worker).

    Files of processes that no longer exist would otherwise pile up with every restart.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    shutil.rmtree(directory, ignore_errors=True)
    Path(directory).mkdir(parents=True, exist_ok=True)
