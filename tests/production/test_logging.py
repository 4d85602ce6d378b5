"""JSON-lines logs carry order / provider ids; Sentry events carry no key and no PII."""

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from celery import shared_task
from celery.signals import task_postrun, task_prerun

from panel.logging_config import JsonFormatter, sentry_init


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("orders.forwarding", logging.INFO, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_it_writes_one_json_object_per_line_with_the_ids_given() -> None:
    line = JsonFormatter().format(record("Order 7 accepted", order_id=7, provider_id=2))
    entry = json.loads(line)
    assert "\n" not in line
    assert {k: v for k, v in entry.items() if k != "time"} == {
        "level": "INFO",
        "logger": "orders.forwarding",
        "message": "Order 7 accepted",
        "order_id": 7,
        "provider_id": 2,
    }


@shared_task
def forward_something(order_id: int, attempt: int = 1) -> None:
    """A task taking an order id, as orders.tasks.forward_order does."""


def test_it_adds_the_ids_of_the_running_task() -> None:
    task_prerun.send(sender=forward_something, task=forward_something, args=(41,), kwargs={})
    try:
        entry = json.loads(JsonFormatter().format(record("claimed")))
    finally:
        task_postrun.send(sender=forward_something, task=forward_something, args=(41,), kwargs={})
    assert entry["order_id"] == 41
    assert entry["task"] == forward_something.name
    assert "order_id" not in json.loads(JsonFormatter().format(record("later")))


class Captured(sentry_sdk.transport.Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[sentry_sdk.envelope.Envelope] = []

    def capture_envelope(self, envelope: sentry_sdk.envelope.Envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    transport = Captured()
    real_init = sentry_sdk.init
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: real_init(transport=transport, **kw))
    sentry_init(dsn="https://public@sentry.example/1", environment="test")
    yield transport
    real_init()  # no DSN: an inactive client again


def test_it_sends_errors_to_sentry_without_keys(sentry: Captured) -> None:
    # Made at run time: a literal here would be in the event's source context lines.
    key = secrets.token_hex(16)

    def call_provider(api_key: str) -> None:
        data = {"key": api_key, "action": "add"}
        raise RuntimeError(f"provider refused action {data['action']}")

    try:
        call_provider(key)
    except RuntimeError as exc:
        with sentry_sdk.new_scope() as scope:
            scope.set_extra("form", {"key": key, "link": "https://example.com/p"})
            sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()

    [envelope] = sentry.envelopes
    body = envelope.serialize().decode()
    assert "provider refused action add" in body
    assert key not in body
