"""/healthz answers any probe; /readyz says, as JSON, whether every part is up and fresh."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from catalog.models import Provider
from tests.factories import ProviderFactory
from tests.production.helpers import beat_beats, closed_port, open_order


@pytest.fixture
def behind_proxy(settings: Any) -> Any:
    """Production's host and SSL-redirect rules, as a probe from 127.0.0.1 meets them."""
    settings.ALLOWED_HOSTS = ["panel.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    return settings


@pytest.fixture
def fresh_provider(db: None) -> Provider:
    provider: Provider = ProviderFactory(name="Fresh", last_synced_at=timezone.now())
    return provider


def test_it_answers_healthz_whatever_the_host_and_scheme(client: Client, behind_proxy: Any) -> None:
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    # The rules are in force for pages: a 400 for the host (the redirect needs a valid host).
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/", HTTP_HOST="panel.example.com").status_code == 301


def test_it_answers_readyz_whatever_the_host_and_scheme(
    client: Client, behind_proxy: Any, fresh_provider: Provider
) -> None:
    beat_beats()
    assert client.get("/readyz", HTTP_HOST="127.0.0.1:8000").status_code == 200


def test_it_is_ready_when_everything_is_up_and_fresh(
    client: Client, fresh_provider: Provider, customer: User
) -> None:
    beat_beats()
    order = open_order(customer, fresh_provider)
    fresh_provider.last_status_sync_at = timezone.now()
    fresh_provider.save()

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "cache": True,
        "static": True,
        "beat": True,
    }
    assert body["providers"] == {
        str(fresh_provider.pk): {
            "ok": True,
            "catalogue_synced_at": fresh_provider.last_synced_at.isoformat(),
            "statuses_polled_at": fresh_provider.last_status_sync_at.isoformat(),
            "open_orders": True,
        }
    }
    assert order.status == "sent"


def test_it_is_not_ready_when_the_broker_is_down(
    client: Client, fresh_provider: Provider, settings: Any
) -> None:
    beat_beats()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["broker"]["ok"] is False
    assert "Error" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_it_is_not_ready_when_a_catalogue_sync_is_stale(client: Client, db: None) -> None:
    beat_beats()
    stale = ProviderFactory(
        sync_interval_minutes=60, last_synced_at=timezone.now() - dt.timedelta(hours=3)
    )
    ProviderFactory(is_enabled=False, last_synced_at=None)  # disabled: not checked

    response = client.get("/readyz")

    assert response.status_code == 503
    [(pk, check)] = response.json()["providers"].items()
    assert pk == str(stale.pk)
    assert check["ok"] is False
    assert check["error"] == f"Provider {stale.pk}: its catalogue was last synced 3 h ago."


def test_it_is_not_ready_when_a_catalogue_was_never_synced(client: Client, db: None) -> None:
    beat_beats()
    provider = ProviderFactory(last_synced_at=None)
    check = client.get("/readyz").json()["providers"][str(provider.pk)]
    assert check["error"] == f"Provider {provider.pk}: its catalogue was never synced."


def test_it_is_not_ready_when_open_orders_go_unpolled(
    client: Client, fresh_provider: Provider, customer: User
) -> None:
    beat_beats()
    order = open_order(customer, fresh_provider)
    order.created_at = timezone.now() - dt.timedelta(hours=1)
    order.save()
    fresh_provider.last_status_sync_at = timezone.now() - dt.timedelta(minutes=10)
    fresh_provider.save()

    response = client.get("/readyz")

    assert response.status_code == 503
    check = response.json()["providers"][str(fresh_provider.pk)]
    assert check["error"] == (
        f"Provider {fresh_provider.pk}: "
        "the statuses of its open orders were last polled 10 min ago."
    )


def test_it_gives_the_first_order_after_an_idle_time_the_whole_window(
    client: Client, fresh_provider: Provider, customer: User
) -> None:
    beat_beats()
    fresh_provider.last_status_sync_at = timezone.now() - dt.timedelta(days=2)
    fresh_provider.save()
    open_order(customer, fresh_provider)
    assert client.get("/readyz").status_code == 200


def test_it_is_not_ready_when_open_orders_were_never_polled(
    client: Client, fresh_provider: Provider, customer: User
) -> None:
    beat_beats()
    order = open_order(customer, fresh_provider)
    order.created_at = timezone.now() - dt.timedelta(minutes=6)
    order.save()
    check = client.get("/readyz").json()["providers"][str(fresh_provider.pk)]
    assert check["error"] == (
        f"Provider {fresh_provider.pk}: the statuses of its open orders were never polled."
    )


def test_it_needs_no_status_poll_without_open_orders(
    client: Client, fresh_provider: Provider
) -> None:
    beat_beats()
    fresh_provider.last_status_sync_at = timezone.now() - dt.timedelta(days=2)
    fresh_provider.save()
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    ("age", "error"),
    [
        (None, "No heartbeat from Celery beat through a worker yet."),
        (
            dt.timedelta(minutes=5),
            "The last beat heartbeat is 300 s old: are beat and a worker running?",
        ),
    ],
)
def test_it_is_not_ready_without_a_recent_beat_heartbeat(
    client: Client, db: None, age: dt.timedelta | None, error: str
) -> None:
    if age is not None:
        beat_beats(age)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["error"] == error


def test_it_records_beat_heartbeats_for_readyz(client: Client, db: None) -> None:
    from panel.tasks import beat_heartbeat

    assert client.get("/readyz").json()["checks"]["beat"]["ok"] is False
    beat_heartbeat()
    assert client.get("/readyz").json()["checks"]["beat"]["ok"] is True


def test_it_is_not_ready_without_collected_static_files_in_production(
    client: Client, db: None, settings: Any, tmp_path: Any
) -> None:
    beat_beats()
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    check = client.get("/readyz").json()["checks"]["static"]
    assert check["ok"] is False
    assert check["error"].startswith("Static files are not collected")
