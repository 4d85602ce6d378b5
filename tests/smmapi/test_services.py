"""The catalogue: every variant providers send, and rows we must skip."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import pytest

from panel.smmapi import ServiceInfo, UnknownOutcome
from panel.smmapi.protocol import ServiceType
from tests.smmapi.fakes import answering


def service(**overrides: object) -> ServiceInfo:
    fields: dict[str, object] = {
        "service_id": "1",
        "name": "Followers",
        "type": ServiceType.DEFAULT,
        "category": "Instagram",
        "rate": Decimal("0.90"),
        "min": 50,
        "max": 10000,
        "refill": False,
        "cancel": False,
        "dripfeed": False,
        "description": "",
    }
    fields.update(overrides)
    return ServiceInfo(**fields)  # type: ignore[arg-type]


def test_it_parses_the_canonical_catalogue() -> None:
    provider = answering(
        [
            {
                "service": 1,
                "name": "Followers",
                "type": "Default",
                "category": "Instagram",
                "rate": "0.90",
                "min": "50",
                "max": "10000",
                "refill": True,
                "cancel": True,
                "dripfeed": False,
                "desc": "Real accounts",
            }
        ]
    )
    with provider.client() as client:
        services = client.services()
    assert services == [service(refill=True, cancel=True, description="Real accounts")]
    assert provider.forms()[0]["action"] == "services"


def test_it_tolerates_every_variant_of_a_row() -> None:
    rows = [
        # Seed provider: ids and numbers as strings, lower-case type, dripfeed as 1.
        {"service": "5", "name": "A ", "category": "C", "rate": "1.02", "min": "500",
         "max": "10000", "type": "default", "desc": "usernames", "dripfeed": 1},
        # Numbers as JSON numbers, floats included; booleans as strings.
        {"service": 6, "name": "B", "category": "C", "rate": 0.1, "min": 10, "max": 100.0,
         "refill": "yes", "cancel": "1", "dripfeed": "true"},
        # snake_case type, no category, false spellings.
        {"service": "7", "name": "C", "type": "custom_comments", "rate": "12", "min": "1",
         "max": "5", "refill": "no", "cancel": 0, "dripfeed": "false"},
        # Missing type and flags; a large rate in a weak currency; "id" instead of "service".
        {"id": "abc-8", "name": "D", "category": "C", "rate": "125000.12345", "min": "1",
         "max": "1"},
        {"service": 9, "name": "E", "category": "C", "type": "Mentions with Hashtags",
         "rate": 3, "min": 20, "max": 20000, "description": "long text"},
    ]  # fmt: skip
    with answering(rows).client() as client:
        services = client.services()
    assert services == [
        service(service_id="5", name="A", category="C", rate=Decimal("1.02"), min=500,
                dripfeed=True, description="usernames"),
        service(service_id="6", name="B", category="C", rate=Decimal("0.1"), min=10, max=100,
                refill=True, cancel=True, dripfeed=True),
        service(service_id="7", name="C", type=ServiceType.CUSTOM_COMMENTS, category="",
                rate=Decimal("12"), min=1, max=5),
        service(service_id="abc-8", name="D", category="C", rate=Decimal("125000.12345"), min=1,
                max=1),
        service(service_id="9", name="E", type=ServiceType.MENTIONS_WITH_HASHTAGS, category="C",
                rate=Decimal("3"), min=20, max=20000, description="long text"),
    ]  # fmt: skip


def test_it_skips_malformed_rows_and_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    good = {"service": 1, "name": "Followers", "category": "Instagram", "rate": "0.90",
            "min": 50, "max": 10000}  # fmt: skip
    rows = [
        good,
        {**good, "service": None},
        {**good, "service": 2, "name": ""},
        {**good, "service": 3, "rate": "free"},
        {**good, "service": 4, "rate": "-1"},
        {**good, "service": 5, "type": "Telepathy"},
        {**good, "service": 6, "min": "lots"},
        {**good, "service": 7, "min": 100, "max": 10},
        "not a row",
        {**good, "name": "Duplicate of 1"},
    ]
    caplog.set_level(logging.WARNING, logger="panel.smmapi")
    with answering(rows).client() as client:
        services = client.services()
    assert services == [service(category="Instagram")]
    assert [(r.name, r.levelname) for r in caplog.records] == [("panel.smmapi", "WARNING")] * 9
    assert [r.getMessage().split(":")[1].strip() for r in caplog.records] == [
        "no service id",
        "no name",
        "unusable rate",
        "unusable rate",
        "unknown type",
        "unusable min/max",
        "unusable min/max",
        "not an object",
        "duplicate id 1",
    ]
    assert caplog.records[4].getMessage().startswith("Skipping service row #5: unknown type: {")


def test_it_accepts_a_catalogue_keyed_by_id_or_wrapped() -> None:
    row = {"name": "Followers", "category": "Instagram", "rate": "0.90", "min": 50, "max": 10000}
    with answering({"1": row}).client() as client:
        assert client.services() == [service(category="Instagram")]
    with answering({"services": [{"service": 1, **row}]}).client() as client:
        assert client.services() == [service(category="Instagram")]


def test_it_raises_unknown_outcome_on_a_catalogue_that_is_not_a_list() -> None:
    with pytest.raises(UnknownOutcome) as caught, answering({"status": "ok"}).client() as client:
        client.services()
    assert caught.value.message == "services: unexpected answer (the services answer is not a list)"
    assert caught.value.body_head == '{"status":"ok"}'


def test_it_parses_ten_thousand_rows_quickly() -> None:
    rows = [
        {"service": str(i), "name": f"Service {i}", "type": "Default", "category": "Bulk",
         "rate": f"{i}.12345", "min": "10", "max": "100000", "refill": i % 2, "cancel": True}
        for i in range(10_000)
    ]  # fmt: skip
    with answering(rows).client() as client:
        started = time.monotonic()
        services = client.services()
        elapsed = time.monotonic() - started
    assert len(services) == 10_000
    assert services[-1] == service(service_id="9999", name="Service 9999", category="Bulk",
                                   rate=Decimal("9999.12345"), min=10, max=100000, refill=True,
                                   cancel=True)  # fmt: skip
    assert elapsed < 2
