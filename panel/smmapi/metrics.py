"""Prometheus instruments of provider calls, observed at the one HTTP seam (``SMMClient._call``).

Counted in the process that makes the call (a Celery worker child, a gunicorn worker, a
management command). In production every process writes its values to files under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and ``/metrics`` merges
them (``panel.metrics``); without that variable they live in this process only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram

from panel.smmapi.errors import NotDelivered, Rejected, UnknownOutcome

PROVIDER_CALLS = Counter(
    "upline_provider_calls",
    "Provider API calls by outcome: ok, not_delivered, rejected (with its reason), "
    "unknown_outcome, error.",
    ["provider", "action", "outcome", "reason"],
)
PROVIDER_CALL_SECONDS = Histogram(
    "upline_provider_call_seconds",
    "Duration of provider API calls, answer parsing included.",
    ["provider", "action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def provider_label(url: str) -> str:
    """The provider's host (and port): bounded, and never the path or query a key could be in."""
    parts = urlsplit(url)
    host = parts.hostname or "unknown"
    return f"{host}:{parts.port}" if parts.port else host


@contextmanager
def observe_call(provider: str, action: str) -> Iterator[None]:
    """Time one call and count its outcome; exceptions pass through unchanged."""
    started = time.perf_counter()
    outcome, reason = "ok", ""
    try:
        yield
    except Rejected as exc:
        outcome, reason = "rejected", exc.reason.value
        raise
    except NotDelivered:
        outcome = "not_delivered"
        raise
    except UnknownOutcome:
        outcome = "unknown_outcome"
        raise
    except Exception:
        outcome = "error"
        raise
    finally:
        PROVIDER_CALL_SECONDS.labels(provider, action).observe(time.perf_counter() - started)
        PROVIDER_CALLS.labels(provider, action, outcome, reason).inc()
