"""Log format and error reporting: JSON lines (``LOG_FORMAT=json``) and optional Sentry.

JSON lines carry the ids a log search needs (``order_id``, ``provider_id``, ``refill_id``):
from the record's ``extra`` when the caller passed them, else from the Celery task being run
(its arguments of those names, bound by ``connect_celery_signals``).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
from contextvars import ContextVar
from typing import Any

CONTEXT_FIELDS = ("order_id", "provider_id", "refill_id")

_task_context: ContextVar[dict[str, object] | None] = ContextVar("upline_log_task", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, task, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_task_context.get() or {})
        for field in CONTEXT_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _bind_task(task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    context: dict[str, object] = {"task": getattr(task, "name", "")}
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
    except (TypeError, ValueError, AttributeError):
        bound = None
    if bound is not None:
        context.update({k: v for k, v in bound.arguments.items() if k in CONTEXT_FIELDS})
    _task_context.set(context)


def _unbind_task(**_: Any) -> None:
    _task_context.set(None)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_bind_task, weak=False, dispatch_uid="upline-log-bind")
    task_postrun.connect(_unbind_task, weak=False, dispatch_uid="upline-log-unbind")


# Field names whose values never leave for Sentry: API keys (ours as `key` / X-Api-Key, the
# providers'), the key ring, secrets, tokens, passwords (Sentry's defaults add more).
SENTRY_DENYLIST = [
    "key",
    "api_key",
    "api_key_encrypted",
    "x-api-key",
    "x_api_key",
    "upline_encryption_keys",
    "django_secret_key",
    "secret_key",
    "stripe_secret_key",
    "stripe_webhook_secret",
    "email_host_password",
    "upline_metrics_token",
]


def sentry_init(*, dsn: str, environment: str, release: str = "") -> None:
    """Report unhandled errors of web and Celery to Sentry, without keys or personal data."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # No user, IP, cookies or headers; no request bodies (an /api/v2 body holds the key);
        # no local variables (a provider call's locals hold the provider's key).
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + SENTRY_DENYLIST, recursive=True),
        traces_sample_rate=0.0,
    )
