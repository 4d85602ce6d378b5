import logging
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.models import Category, Provider, Service, UserRate
from catalog.services import provider_create, provider_sync_catalogue
from simulator import Simulator
from tests.catalog.conftest import SIM_KEY
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_it_never_shows_the_api_key_in_the_provider_admin(
    staff: Client, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = staff.post(
            reverse("admin:catalog_provider_add"),
            {
                "name": "Upstream",
                "api_url": sim.url,
                "api_key": SIM_KEY,
                "currency": "USD",
                "exchange_rate": "1",
                "default_markup_percent": "",
                "is_enabled": "on",
                "sync_interval_minutes": "60",
                "low_balance_threshold": "",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        provider = Provider.objects.get(name="Upstream")
        assert provider.api_key == SIM_KEY
        assert SIM_KEY not in provider.api_key_encrypted

        pages = [
            staff.get(reverse("admin:catalog_provider_changelist")),
            staff.get(reverse("admin:catalog_provider_change", args=[provider.pk])),
            staff.get(reverse("admin:catalog_provider_history", args=[provider.pk])),
        ]
        for page in pages:
            assert page.status_code == 200
            assert SIM_KEY not in page.content.decode()
        # Failures carry no key either.
        Provider.objects.filter(pk=provider.pk).update(api_url=sim.url + "x")
        provider_sync_catalogue(provider_id=provider.pk)
        page = staff.get(reverse("admin:catalog_provider_change", args=[provider.pk]))
        assert SIM_KEY not in page.content.decode()
    assert SIM_KEY not in caplog.text


def test_it_keeps_the_key_when_the_field_is_left_empty(staff: Client, sim: Simulator) -> None:
    provider = provider_create(name="Keep", api_url=sim.url, api_key=SIM_KEY)
    form = {
        "name": "Keep renamed",
        "api_url": sim.url,
        "api_key": "",
        "currency": "EUR",
        "exchange_rate": "1.1",
        "default_markup_percent": "20",
        "is_enabled": "on",
        "sync_interval_minutes": "30",
        "low_balance_threshold": "50",
    }
    response = staff.post(reverse("admin:catalog_provider_change", args=[provider.pk]), form)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.api_key == SIM_KEY
    assert (provider.name, provider.currency, provider.exchange_rate) == (
        "Keep renamed",
        "EUR",
        Decimal("1.1"),
    )
    response = staff.post(
        reverse("admin:catalog_provider_change", args=[provider.pk]), {**form, "api_key": "new-key"}
    )
    provider.refresh_from_db()
    assert provider.api_key == "new-key"


def test_it_refuses_a_negative_markup(staff: Client, sim: Simulator) -> None:
    response = staff.post(
        reverse("admin:catalog_provider_add"),
        {
            "name": "Neg",
            "api_url": sim.url,
            "api_key": "k",
            "currency": "USD",
            "exchange_rate": "1",
            "default_markup_percent": "-5",
            "sync_interval_minutes": "60",
        },
    )
    assert response.status_code == 200
    assert not Provider.objects.exists()


def test_it_tests_the_connection_and_queues_a_sync(
    staff: Client, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr("catalog.admin.providers.sync_provider.delay", queued.append)
    url = reverse("admin:catalog_provider_changelist")

    response = staff.post(
        url, {"action": "test_connection", "_selected_action": [provider.pk]}, follow=True
    )
    assert "Sim: Connected. Balance: 1000.00000 USD." in response.content.decode()
    provider.refresh_from_db()
    assert (provider.balance, provider.last_success_at is not None) == (Decimal("1000"), True)

    response = staff.post(
        url, {"action": "sync_now", "_selected_action": [provider.pk]}, follow=True
    )
    assert "Sim: catalogue sync queued." in response.content.decode()
    assert queued == [provider.pk]


@pytest.fixture
def synced(provider: Provider) -> Provider:
    assert provider_sync_catalogue(provider_id=provider.pk).status == "ok"
    return provider


def test_it_lists_services_with_margin_and_filters(staff: Client, synced: Provider) -> None:
    Service.objects.filter(upstream_id="1").update(rate=Decimal("0.00001"))
    url = reverse("admin:catalog_service_changelist")
    for query in ["", "?below_cost=yes", "?below_cost=no", "?is_enabled__exact=0", "?q=Instagram"]:
        assert staff.get(url + query).status_code == 200
    page = staff.get(url + "?below_cost=yes").content.decode()
    assert page.count('name="_selected_action"') == 1
    assert "30.0" in staff.get(url).content.decode()  # default 30% margin


def test_it_runs_the_bulk_actions(staff: Client, synced: Provider) -> None:
    url = reverse("admin:catalog_service_changelist")
    ids = list(Service.objects.order_by("pk").values_list("pk", flat=True)[:3])
    staff.post(url, {"action": "enable", "_selected_action": ids})
    assert Service.objects.filter(is_enabled=True).count() == 3

    staff.post(url, {"action": "set_markup", "markup_percent": "50", "_selected_action": ids})
    for service in Service.objects.filter(pk__in=ids):
        assert service.markup_percent == Decimal("50")
        assert service.rate == (service.upstream_rate * Decimal("1.5")).quantize(Decimal("0.00001"))

    target = Category.objects.create(name="Target", markup_percent=Decimal("10"))
    staff.post(url, {"action": "move_to_category", "category": target.pk, "_selected_action": ids})
    assert set(Service.objects.filter(pk__in=ids).values_list("category_id", flat=True)) == {
        target.pk
    }

    staff.post(url, {"action": "disable", "_selected_action": ids})
    assert not Service.objects.filter(is_enabled=True).exists()


def test_it_edits_a_service_and_refuses_a_fixed_price_below_cost(
    staff: Client, synced: Provider
) -> None:
    service = Service.objects.get(upstream_id="2")
    url = reverse("admin:catalog_service_change", args=[service.pk])
    assert staff.get(url).status_code == 200
    form = {
        "name": "Our own name",
        "description": "Ours",
        "category": service.category_id,
        "fixed_rate": "0.00001",
        "markup_percent": "",
        "is_enabled": "on",
        "refill_days": "30",
        "average_time": "",
        "user_rates-TOTAL_FORMS": "0",
        "user_rates-INITIAL_FORMS": "0",
        "rate_changes-TOTAL_FORMS": "0",
        "rate_changes-INITIAL_FORMS": "0",
    }
    response = staff.post(url, form)
    assert response.status_code == 200
    assert "below the upstream cost" in response.content.decode()

    response = staff.post(url, {**form, "fixed_rate": "99.00"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.fixed_rate, service.rate, service.is_enabled) == (
        "Our own name",
        Decimal("99.00000"),
        Decimal("99.00000"),
        True,
    )


def test_it_sets_a_custom_rate_inline(staff: Client, synced: Provider) -> None:
    service = Service.objects.get(upstream_id="2")
    reseller = UserFactory(email="r@example.com", role=User.Role.RESELLER)
    url = reverse("admin:catalog_service_change", args=[service.pk])
    form = {
        "name": service.name,
        "description": service.description,
        "category": service.category_id,
        "fixed_rate": "",
        "markup_percent": "",
        "refill_days": "30",
        "average_time": "",
        "user_rates-TOTAL_FORMS": "1",
        "user_rates-INITIAL_FORMS": "0",
        "user_rates-0-user": reseller.pk,
        "user_rates-0-rate": "0",
        "rate_changes-TOTAL_FORMS": "0",
        "rate_changes-INITIAL_FORMS": "0",
    }
    assert "below the upstream cost" in staff.post(url, form).content.decode()
    response = staff.post(url, {**form, "user_rates-0-rate": str(service.upstream_rate)})
    assert response.status_code == 302
    assert UserRate.objects.get().rate == service.upstream_rate


def test_it_renders_the_other_admin_pages(staff: Client, synced: Provider) -> None:
    ServiceFactory()
    for name in ["category", "userrate", "ratechange", "catalogalert"]:
        assert staff.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200
