"""/metrics: behind its token; business numbers from the database, provider calls from the
processes that made them (merged across processes in multiprocess mode)."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import User
from orders.models import Order
from panel.metrics import LEDGER_RESULT_KEY, MergedFilesCollector, metrics_dir_reset
from panel.smmapi import Rejected, SMMClient
from panel.tasks import check_ledger
from tests.factories import ProviderFactory
from tests.production.helpers import open_order

TOKEN = "metrics-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def token(settings: Any) -> str:
    settings.UPLINE_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_it_is_off_without_a_token(client: Client, db: None) -> None:
    assert client.get("/metrics").status_code == 404


def test_it_refuses_a_missing_or_wrong_token(client: Client, token: str) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_it_counts_orders_by_provider_from_the_database(
    client: Client, token: str, customer: User
) -> None:
    provider = ProviderFactory(name="Alpha")
    first = open_order(customer, provider, upstream_id="1")
    Order.objects.filter(pk=first.pk).update(created_at=first.created_at - dt.timedelta(hours=1))
    open_order(customer, provider, upstream_id="2")
    failed = open_order(customer, provider, upstream_id="")
    Order.objects.filter(pk=failed.pk).update(status=Order.Status.FAILED)
    review = open_order(customer, provider, upstream_id="")
    Order.objects.filter(pk=review.pk).update(status=Order.Status.NEEDS_REVIEW)

    samples = scrape(client)

    alpha = (("provider", "Alpha"),)
    assert samples[("upline_orders_placed_total", alpha)] == 4
    assert samples[("upline_orders_forwarded_total", alpha)] == 2
    assert samples[("upline_orders_failed_total", alpha)] == 1
    assert samples[("upline_orders_needs_review", alpha)] == 1
    assert samples[("upline_orders", (("provider", "Alpha"), ("status", "sent")))] == 2
    # Never polled: the oldest open order has waited an hour.
    assert 3600 <= samples[("upline_status_sync_lag_seconds", alpha)] < 3900
    # Never synced: infinitely old, so an alert on the age fires.
    assert samples[("upline_catalogue_sync_age_seconds", alpha)] == float("inf")
    assert samples[("upline_queue_depth", (("queue", "celery"),))] >= 0


def test_it_reports_the_last_ledger_check(client: Client, token: str, customer: User) -> None:
    assert ("upline_ledger_discrepancies", ()) not in scrape(client)
    check_ledger()
    assert scrape(client)[("upline_ledger_discrepancies", ())] == 0
    User.objects.filter(pk=customer.pk).update(balance=customer.balance + 1)
    check_ledger()
    assert scrape(client)[("upline_ledger_discrepancies", ())] == 1
    assert cache.get(LEDGER_RESULT_KEY)["discrepancies"] == 1


def answer(payload: dict[str, object], status: int = 200) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=payload))


def calls(action: str, outcome: str, reason: str = "") -> float:
    labels = {"provider": "prov.example", "action": action, "outcome": outcome, "reason": reason}
    return REGISTRY.get_sample_value("upline_provider_calls_total", labels) or 0.0


def test_it_counts_provider_calls_by_outcome_at_the_client() -> None:
    ok_before = calls("balance", "ok")
    rejected_before = calls("balance", "rejected", "bad_key")
    url = "https://prov.example/api/v2"
    with SMMClient(
        url, "test-key-77", transport=answer({"balance": "1.00", "currency": "USD"})
    ) as client:
        client.balance()
    refusing = SMMClient(url, "test-key-77", transport=answer({"error": "Invalid API key"}))
    with refusing, pytest.raises(Rejected):
        refusing.balance()
    assert calls("balance", "ok") == ok_before + 1
    assert calls("balance", "rejected", "bad_key") == rejected_before + 1
    seconds = REGISTRY.get_sample_value(
        "upline_provider_call_seconds_count", {"provider": "prov.example", "action": "balance"}
    )
    assert seconds is not None
    assert seconds >= 2


CHILD = """
from panel.smmapi.metrics import PROVIDER_CALLS
for _ in range({n}):
    PROVIDER_CALLS.labels("prov.example", "add", "ok", "").inc()
"""


def test_it_merges_the_files_of_every_program(tmp_path: Path) -> None:
    # Two programs (web, worker), each with its own directory, as in docker-compose.
    for program, n in (("web", 2), ("worker", 3)):
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / program)}
        (tmp_path / program).mkdir()
        subprocess.run(  # noqa: S603 - our own code
            [sys.executable, "-c", CHILD.format(n=n)], cwd=ROOT, env=env, check=True, timeout=60
        )
    merged = MergedFilesCollector([str(tmp_path / "web"), str(tmp_path / "worker")]).collect()
    values = {
        sample.name: sample.value
        for family in merged
        for sample in family.samples
        if sample.labels.get("action") == "add"
    }
    assert values == {"upline_provider_calls_total": 5.0}


def test_it_empties_the_programs_metrics_directory_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "metrics" / "web"
    directory.mkdir(parents=True)
    (directory / "counter_123.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    metrics_dir_reset()
    assert directory.is_dir()
    assert list(directory.iterdir()) == []
