"""Probes: ``/healthz`` (liveness) and ``/readyz`` (readiness), answered by ``ProbeMiddleware``.

Why a middleware first in the chain rather than URL patterns: container and load-balancer
probes call ``http://127.0.0.1:8000/healthz`` with a Host header that is not in ALLOWED_HOSTS
and over plain HTTP; behind SecurityMiddleware (SSL redirect) and CommonMiddleware (host
validation) they would get a 301 or a 400 forever. ``/metrics`` (panel.metrics) is answered
the same way, behind its token.

Why not django-health-check: its Celery check sends a task and waits for the result, which
needs a result backend (Upline runs none: tasks ignore results), and most of what /readyz must
say (each provider's catalogue sync and status poll against its own schedule, beat's
heartbeat, the static manifest) would be custom checks anyway; the rest is a few lines here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

BEAT_HEARTBEAT_KEY = "upline:beat-heartbeat"
# One missed catalogue sync is tolerated; the sweep that enqueues due syncs runs every 5 min.
CATALOGUE_SYNC_GRACE = dt.timedelta(minutes=10)


@dataclass
class Check:
    """One readiness check: ``ok`` and, when not, a sentence saying what is wrong."""

    ok: bool
    error: str = ""
    details: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": self.ok, **self.details}
        if self.error:
            body["error"] = self.error
        return body


def _failure(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return Check(ok=False, error=_failure(exc))
    return Check(ok=True)


def check_cache() -> Check:
    probe = f"upline:readyz:{time.monotonic_ns()}"
    try:
        cache.set(probe, "1", 10)
        answered = cache.get(probe)
        cache.delete(probe)
    except Exception as exc:
        return Check(ok=False, error=_failure(exc))
    if answered != "1":
        return Check(ok=False, error="The cache did not return what was just stored.")
    return Check(ok=True)


def check_broker() -> Check:
    """Connect to the broker (CELERY_BROKER_CONNECTION_TIMEOUT bounds it) and read the depth."""
    from panel.metrics import broker_queue_depth

    try:
        depth = broker_queue_depth()
    except Exception as exc:
        return Check(ok=False, error=_failure(exc))
    return Check(ok=True, details={"queued_messages": depth})


def check_static() -> Check:
    from panel.checks import static_manifest_problem

    problem = None if settings.DEBUG else static_manifest_problem()
    return Check(ok=problem is None, error=problem or "")


def check_beat(now: dt.datetime) -> Check:
    """Beat sends ``panel.tasks.beat_heartbeat`` every 30 s and a worker records it here."""
    max_age = dt.timedelta(seconds=settings.UPLINE_READY_BEAT_MAX_AGE_SECONDS)
    try:
        beat = cache.get(BEAT_HEARTBEAT_KEY)
    except Exception as exc:
        return Check(ok=False, error=_failure(exc))
    if beat is None:
        return Check(ok=False, error="No heartbeat from Celery beat through a worker yet.")
    last = dt.datetime.fromisoformat(str(beat))
    age = (now - last).total_seconds()
    details: dict[str, object] = {"last": last.isoformat(), "age_seconds": round(age)}
    if now - last > max_age:
        return Check(
            ok=False,
            error=f"The last beat heartbeat is {round(age)} s old: are beat and a worker running?",
            details=details,
        )
    return Check(ok=True, details=details)


def oldest_open_orders() -> dict[int, dt.datetime]:
    """Per enabled provider with orders to poll: when its oldest such order was created."""
    from orders.models import Order
    from orders.states import POLLABLE

    return dict(
        Order.objects.filter(status__in=POLLABLE, provider__is_enabled=True)
        .exclude(upstream_order_id="")
        .order_by()
        .values("provider_id")
        .annotate(oldest=Min("created_at"))
        .values_list("provider_id", "oldest")
    )


def status_poll_lag(
    now: dt.datetime, *, polled: dt.datetime | None, oldest_open: dt.datetime | None
) -> dt.timedelta | None:
    """How long a provider's open orders have waited for a complete status poll; None without
    open orders. Counted from the later of the last poll and the oldest open order, so an idle
    provider's first order gets the whole window."""
    if oldest_open is None:
        return None
    return now - max(oldest_open, polled or oldest_open)


def check_providers(now: dt.datetime) -> dict[str, Check]:
    """Per enabled provider: the catalogue synced within its interval (one miss allowed), and
    its open orders' statuses polled within UPLINE_READY_STATUS_SYNC_MAX_AGE_SECONDS."""
    from catalog.models import Provider

    poll_max_age = dt.timedelta(seconds=settings.UPLINE_READY_STATUS_SYNC_MAX_AGE_SECONDS)
    oldest_open = oldest_open_orders()
    checks: dict[str, Check] = {}
    for provider in Provider.objects.filter(is_enabled=True).order_by("pk"):
        problems = []
        catalogue_max_age = 2 * dt.timedelta(minutes=provider.sync_interval_minutes)
        synced = provider.last_synced_at
        if synced is None:
            problems.append("its catalogue was never synced")
        elif now - synced > catalogue_max_age + CATALOGUE_SYNC_GRACE:
            problems.append(f"its catalogue was last synced {_ago(now - synced)} ago")
        polled = provider.last_status_sync_at
        oldest = oldest_open.get(provider.pk)
        lag = status_poll_lag(now, polled=polled, oldest_open=oldest)
        if lag is not None and lag > poll_max_age:
            when = "never polled" if polled is None else f"last polled {_ago(now - polled)} ago"
            problems.append(f"the statuses of its open orders were {when}")
        checks[str(provider.pk)] = Check(
            ok=not problems,
            error=f"Provider {provider.pk}: {'; '.join(problems)}." if problems else "",
            details={
                "catalogue_synced_at": synced.isoformat() if synced else None,
                "statuses_polled_at": polled.isoformat() if polled else None,
                "open_orders": oldest is not None,
            },
        )
    return checks


def _ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def readiness() -> tuple[bool, dict[str, object]]:
    """Every check, and whether all passed. Database-dependent checks need the database."""
    now = timezone.now()
    checks: dict[str, Check] = {
        "database": check_database(),
        "broker": check_broker(),
        "cache": check_cache(),
        "static": check_static(),
        "beat": check_beat(now),
    }
    body: dict[str, object] = {}
    providers: dict[str, Check] = {}
    if checks["database"].ok:
        try:
            providers = check_providers(now)
        except Exception as exc:
            checks["providers"] = Check(ok=False, error=_failure(exc))
    ok = all(check.ok for check in checks.values()) and all(p.ok for p in providers.values())
    body["status"] = "ok" if ok else "failing"
    body["checks"] = {name: check.as_json() for name, check in checks.items()}
    body["providers"] = {pk: check.as_json() for pk, check in providers.items()}
    return ok, body


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Depends on nothing else, so a database outage does not
    get every web container restarted; /readyz says what is wrong."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    ok, body = readiness()
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    """Answers the probe paths before any other middleware (host and SSL-redirect checks)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from panel.metrics import metrics_view

        self.get_response = get_response
        self.probes: dict[str, Callable[[HttpRequest], HttpResponse]] = {
            "/healthz": healthz,
            "/readyz": readyz,
            "/metrics": metrics_view,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
