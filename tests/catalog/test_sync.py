import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category, Provider, RateChange, Service
from catalog.services import provider_create, provider_sync_catalogue
from panel.smmapi.protocol import ServiceType
from simulator import SimService, SimState, Simulator, run_simulator
from tests.catalog.conftest import SIM_KEY

pytestmark = pytest.mark.django_db


def sync(provider: Provider) -> dict[str, int]:
    result = provider_sync_catalogue(provider_id=provider.pk)
    assert result.status == "ok", result.error
    return result.stats()


def by_upstream(provider: Provider, upstream_id: int) -> Service:
    return Service.objects.get(provider=provider, upstream_id=str(upstream_id))


def test_it_imports_new_services_disabled_with_our_price(
    provider: Provider, sim: Simulator
) -> None:
    stats = sync(provider)

    assert stats["received"] == 50
    assert stats["created"] == 50
    assert stats["updated"] == stats["vanished"] == stats["rate_changes"] == stats["skipped"] == 0
    assert Service.objects.count() == 50
    assert not Service.objects.filter(is_enabled=True).exists()
    upstream = sim.state.service(1)
    service = by_upstream(provider, 1)
    assert service.name == service.upstream_name == upstream.name
    assert service.description == service.upstream_description == upstream.desc
    assert service.category.name == service.upstream_category == upstream.category
    assert service.upstream_rate == upstream.rate
    # Default markup 30%, rounded up to 5 places.
    assert service.rate == (upstream.rate * Decimal("1.3")).quantize(Decimal("0.00001"))
    assert (service.type, service.min_quantity, service.max_quantity) == (
        upstream.type.value,
        upstream.min,
        upstream.max,
    )
    assert (service.refill, service.cancel, service.dripfeed) == (
        upstream.refill,
        upstream.cancel,
        upstream.dripfeed,
    )
    assert service.is_available
    assert Category.objects.count() == len({s.category for s in sim.state.services()})
    provider.refresh_from_db()
    assert provider.last_synced_at is not None
    assert provider.last_success_at is not None
    assert provider.sync_lease_until is None
    assert provider.last_sync_stats == stats


def test_it_enables_new_services_when_the_setting_says_so(
    provider: Provider, settings: object
) -> None:
    settings.CATALOG_NEW_SERVICES_ENABLED = True  # type: ignore[attr-defined]
    sync(provider)
    assert Service.objects.filter(is_enabled=True).count() == 50


def test_it_updates_changed_services_and_records_rate_history(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    sim.state.update_service(2, rate="7.00000", max=999_999, refill=True)
    sim.state.update_service(3, name="Renamed upstream", desc="New text")
    sim.state.add_service(name="Brand new", category="New Category", rate="0.50", id=900)

    stats = sync(provider)

    assert stats["created"] == 1
    assert stats["updated"] == 2
    assert stats["rate_changes"] == 1
    assert stats["categories_created"] == 1
    changed = by_upstream(provider, 2)
    assert (changed.upstream_rate, changed.rate) == (Decimal("7.00000"), Decimal("9.10000"))
    assert (changed.max_quantity, changed.refill) == (999_999, True)
    history = list(RateChange.objects.values_list("service_id", "old_rate", "new_rate"))
    assert history == [(changed.pk, sim_rate_before(provider, 2), Decimal("7.00000"))]
    renamed = by_upstream(provider, 3)
    assert (renamed.name, renamed.description) == ("Renamed upstream", "New text")
    new = by_upstream(provider, 900)
    assert (new.name, new.category.name, new.is_enabled) == ("Brand new", "New Category", False)


def sim_rate_before(provider: Provider, upstream_id: int) -> Decimal:
    return RateChange.objects.get(service=by_upstream(provider, upstream_id)).old_rate


def test_it_keeps_our_edited_name_description_and_category(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    ours = Category.objects.create(name="Our picks")
    Service.objects.filter(pk=by_upstream(provider, 4).pk).update(
        name="Our name", description="Our text", category=ours
    )
    sim.state.update_service(
        4, name="Upstream renamed", desc="Upstream text", category="Moved upstream"
    )

    sync(provider)

    service = by_upstream(provider, 4)
    assert (service.name, service.description, service.category_id) == (
        "Our name",
        "Our text",
        ours.pk,
    )
    assert (service.upstream_name, service.upstream_description, service.upstream_category) == (
        "Upstream renamed",
        "Upstream text",
        "Moved upstream",
    )


def test_it_follows_an_upstream_category_change_we_did_not_override(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    sim.state.update_service(5, category="Moved upstream")
    sync(provider)
    assert by_upstream(provider, 5).category.name == "Moved upstream"


def test_it_marks_vanished_services_unavailable_and_brings_them_back(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    removed = sim.state.service(6)
    sim.state.remove_service(6)

    stats = sync(provider)

    assert stats["vanished"] == 1
    assert not by_upstream(provider, 6).is_available
    assert Service.objects.filter(is_available=True).count() == 49
    assert sync(provider)["vanished"] == 0

    sim.state.add_service(**{**removed.__dict__, "type": removed.type})
    stats = sync(provider)
    assert stats["updated"] == 1
    assert by_upstream(provider, 6).is_available


def test_it_skips_malformed_rows_and_logs_them(db: None, caplog: pytest.LogCaptureFixture) -> None:
    good = SimService(
        id=1,
        name="Good",
        type=ServiceType.DEFAULT,
        category="C",
        rate=Decimal("1"),
        min=10,
        max=100,
    )
    no_name = SimService(
        id=2, name="", type=ServiceType.DEFAULT, category="C", rate=Decimal("1"), min=10, max=100
    )
    bad_bounds = SimService(
        id=3,
        name="Bounds",
        type=ServiceType.DEFAULT,
        category="C",
        rate=Decimal("1"),
        min=100,
        max=10,
    )
    huge_rate = SimService(
        id=4,
        name="Huge",
        type=ServiceType.DEFAULT,
        category="C",
        rate=Decimal("1e16"),
        min=1,
        max=10,
    )
    state = SimState(
        services=[good, no_name, bad_bounds, huge_rate], key=SIM_KEY, frozen_clock=True
    )
    with Simulator(state) as sim, caplog.at_level(logging.WARNING):
        provider = provider_create(name="Sloppy", api_url=sim.url, api_key=SIM_KEY)
        stats = sync(provider)

    assert stats["received"] == 2
    assert stats["skipped"] == 1
    assert list(Service.objects.values_list("upstream_id", flat=True)) == ["1"]
    logged = caplog.text
    assert "Skipping service row" in logged
    assert "out of range" in logged


def test_it_writes_nothing_when_nothing_changed_upstream(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    before = list(Service.objects.order_by("pk").values_list("pk", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        result = provider_sync_catalogue(provider_id=provider.pk)

    assert result.rows_written == 0
    assert result.stats()["updated"] == 0
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and "catalog_provider" not in q["sql"]
    ]
    assert writes == []
    assert list(Service.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert not RateChange.objects.exists()


def sync_query_counts(count: int) -> tuple[list[str], list[str]]:
    """SQL of a first sync of ``count`` services, and of a re-sync with changes and removals."""
    with run_simulator(port=0, services=count, seed=9, key=SIM_KEY, frozen_clock=True) as sim:
        provider = provider_create(name=f"Big {count}", api_url=sim.url, api_key=SIM_KEY)
        with CaptureQueriesContext(connection) as first:
            sync(provider)
        for service_id in range(1, count + 1, 2):
            sim.state.update_service(service_id, rate="99.00")
        for service_id in range(2, count + 1, 10):
            sim.state.remove_service(service_id)
        with CaptureQueriesContext(connection) as second:
            stats = sync(provider)
    assert stats["rate_changes"] == count // 2
    assert stats["vanished"] == count // 10

    def verbs(queries: CaptureQueriesContext) -> list[str]:
        return [q["sql"].split()[0] for q in queries.captured_queries]

    return verbs(first), verbs(second)


def test_it_runs_the_same_queries_for_50_and_500_services(
    db: None, requires_postgres: None
) -> None:
    # PostgreSQL only: SQLite's bind-parameter limit makes bulk_create batch by size.
    # 50 first: the 500-service catalogue then still brings new categories of its own.
    small = sync_query_counts(50)
    large = sync_query_counts(500)
    assert small == large
    first, second = large
    # Claim, provider, categories (read, create, re-read), services, savepoint, upsert, release.
    assert len(first) <= 10, first
    # ... plus rate history and the vanished UPDATE.
    assert len(second) <= 12, second
