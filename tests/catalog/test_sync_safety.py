import logging
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import CatalogAlert, Provider, RateChange, Service
from catalog.services import provider_create, provider_sync_catalogue
from catalog.services.sync import SyncResult
from simulator import Simulator, run_simulator
from tests.catalog.conftest import SIM_KEY
from tests.console.helpers import sent_mail

pytestmark = pytest.mark.django_db

ADMINS = [("Admin", "admin@example.com")]


def priced_service(provider: Provider, *, fixed: str) -> Service:
    assert provider_sync_catalogue(provider_id=provider.pk).status == "ok"
    service = Service.objects.get(provider=provider, upstream_id="1")
    Service.objects.filter(pk=service.pk).update(
        fixed_rate=Decimal(fixed), rate=Decimal(fixed), is_enabled=True
    )
    return service


def test_it_disables_a_fixed_price_service_when_the_cost_rises_above_it(
    provider: Provider,
    sim: Simulator,
    settings: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    settings.ADMINS = ADMINS  # type: ignore[attr-defined]
    settings.CATALOG_BELOW_COST_ACTION = "disable"  # type: ignore[attr-defined]
    service = priced_service(provider, fixed="5.00")
    sim.state.update_service(1, rate="6.00")

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        result = provider_sync_catalogue(provider_id=provider.pk)

    assert result.below_cost == 1
    service.refresh_from_db()
    assert (service.is_enabled, service.fixed_rate, service.rate) == (
        False,
        Decimal("5.00000"),
        Decimal("5.00000"),
    )
    alert = CatalogAlert.objects.get()
    assert (alert.kind, alert.service_id, alert.provider_id) == (
        "below_cost",
        service.pk,
        provider.pk,
    )
    assert "6.00000 is above our fixed price 5.00000; disabled" in alert.message
    outbox = sent_mail()
    assert len(outbox) == 1
    assert alert.message in outbox[0].body
    # Already off: the next sync neither writes nor alerts again.
    again = provider_sync_catalogue(provider_id=provider.pk)
    assert (again.rows_written, again.below_cost) == (0, 0)
    assert CatalogAlert.objects.count() == 1


def test_it_reprices_a_fixed_price_service_when_the_setting_says_so(
    provider: Provider,
    sim: Simulator,
    settings: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    settings.ADMINS = ADMINS  # type: ignore[attr-defined]
    settings.CATALOG_BELOW_COST_ACTION = "reprice"  # type: ignore[attr-defined]
    service = priced_service(provider, fixed="5.00")
    sim.state.update_service(1, rate="6.00")

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        result = provider_sync_catalogue(provider_id=provider.pk)

    assert result.below_cost == 1
    service.refresh_from_db()
    assert (service.is_enabled, service.fixed_rate, service.rate) == (
        True,
        None,
        Decimal("7.80000"),
    )
    alert = CatalogAlert.objects.get()
    assert "repriced to 7.80000" in alert.message
    assert len(sent_mail()) == 1
    assert RateChange.objects.get().new_rate == Decimal("6.00000")


def test_it_keeps_a_fixed_price_that_still_covers_the_cost(
    provider: Provider, sim: Simulator
) -> None:
    service = priced_service(provider, fixed="9.00")
    sim.state.update_service(1, rate="8.99")
    provider_sync_catalogue(provider_id=provider.pk)
    service.refresh_from_db()
    assert (service.is_enabled, service.rate) == (True, Decimal("9.00000"))
    assert not CatalogAlert.objects.exists()


def test_it_records_a_failed_sync_without_the_key(
    db: None, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_key = "wrong-key-7d1e0b93"
    provider = provider_create(name="Bad key", api_url=sim.url, api_key=wrong_key)
    with caplog.at_level(logging.DEBUG):
        result = provider_sync_catalogue(provider_id=provider.pk)

    assert result.status == "failed"
    assert "Invalid API key" in result.error
    provider.refresh_from_db()
    assert "Invalid API key" in provider.last_error
    assert provider.last_error_at is not None
    assert provider.last_synced_at is None
    assert provider.sync_lease_until is None
    assert wrong_key not in caplog.text
    assert wrong_key not in provider.last_error
    assert not Service.objects.exists()


def test_it_records_an_unreachable_provider(db: None) -> None:
    provider = provider_create(name="Down", api_url="http://127.0.0.1:9/api/v2", api_key="k-123")
    result = provider_sync_catalogue(provider_id=provider.pk)
    assert result.status == "failed"
    provider.refresh_from_db()
    assert "not delivered" in provider.last_error
    assert provider.sync_lease_until is None


def test_it_skips_a_sync_while_another_holds_the_lease(provider: Provider, sim: Simulator) -> None:
    Provider.objects.filter(pk=provider.pk).update(
        sync_lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert provider_sync_catalogue(provider_id=provider.pk).status == "locked"
    assert sim.counts["services"] == 0
    # A lease left by a dead worker expires.
    Provider.objects.filter(pk=provider.pk).update(
        sync_lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert provider_sync_catalogue(provider_id=provider.pk).status == "ok"


def test_it_reports_a_missing_provider(db: None) -> None:
    assert provider_sync_catalogue(provider_id=987654).status == "missing"


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_concurrent_syncs_do_the_work(requires_postgres: None) -> None:
    # Latency keeps the first sync inside its lease while the others arrive.
    with run_simulator(port=0, services=200, key=SIM_KEY, frozen_clock=True, latency_ms=300) as sim:
        provider = provider_create(name="Busy", api_url=sim.url, api_key=SIM_KEY)
        results: list[SyncResult] = []
        barrier = threading.Barrier(4)

        def worker() -> None:
            try:
                barrier.wait()
                results.append(provider_sync_catalogue(provider_id=provider.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(r.status for r in results) == ["locked", "locked", "locked", "ok"]
        assert sim.counts["services"] == 1
    assert Service.objects.filter(provider=provider).count() == 200
