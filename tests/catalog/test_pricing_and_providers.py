from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from catalog import tasks
from catalog.models import CatalogAlert, Category, Provider, Service, UserRate
from catalog.pricing import selling_rate, user_rate, user_rates
from catalog.selectors import categories_for_sale, providers_due_for_sync, services_for_sale
from catalog.services import (
    category_save,
    provider_create,
    provider_test_connection,
    provider_update,
    services_set_enabled,
    user_rate_set,
)
from simulator import Simulator
from tests.console.helpers import sent_mail
from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_uses_the_most_specific_markup(settings: object) -> None:
    settings.CATALOG_DEFAULT_MARKUP_PERCENT = Decimal("30")  # type: ignore[attr-defined]
    service = ServiceFactory(upstream_rate=Decimal("2.00000"))
    assert selling_rate(service) == Decimal("2.60000")
    service.provider.default_markup_percent = Decimal("20")
    assert selling_rate(service) == Decimal("2.40000")
    service.category.markup_percent = Decimal("10")
    assert selling_rate(service) == Decimal("2.20000")
    service.markup_percent = Decimal("5")
    assert selling_rate(service) == Decimal("2.10000")
    service.provider.exchange_rate = Decimal("0.5")
    assert selling_rate(service) == Decimal("1.05000")
    service.fixed_rate = Decimal("3.33")
    assert selling_rate(service) == Decimal("3.33000")


def test_it_rounds_selling_rates_up() -> None:
    service = ServiceFactory(upstream_rate=Decimal("0.00001"))
    assert selling_rate(service) == Decimal("0.00002")  # 0.000013 rounded up


def test_it_prices_for_a_user_with_custom_rate_and_discount() -> None:
    service = ServiceFactory(upstream_rate=Decimal("1.00"), rate=Decimal("2.00"))
    reseller = UserFactory(role=User.Role.RESELLER, discount_percent=Decimal("10"))
    assert user_rate(user=None, service=service) == Decimal("2.00")
    assert user_rate(user=reseller, service=service) == Decimal("1.80000")
    user_rate_set(user=reseller, service_id=service.pk, rate=Decimal("1.50"))
    assert user_rate(user=reseller, service=service) == Decimal("1.50000")
    with pytest.raises(ValidationError, match="below the upstream cost"):
        user_rate_set(user=reseller, service_id=service.pk, rate=Decimal("0.99"))
    user_rate_set(user=reseller, service_id=service.pk, rate=None)
    assert not UserRate.objects.exists()


def test_it_prices_a_whole_list_for_a_user_in_one_query(
    django_assert_num_queries: object,
) -> None:
    cheap, dear, custom, below = (
        ServiceFactory(upstream_rate=Decimal("1.00"), rate=Decimal(rate))
        for rate in ("1.30", "25.12345", "2.00", "2.00")
    )
    reseller = UserFactory(role=User.Role.RESELLER, discount_percent=Decimal("12.5"))
    UserRate.objects.create(user=reseller, service=custom, rate=Decimal("1.50"))
    # Granted before the upstream cost rose above it: the cost is charged instead.
    UserRate.objects.create(user=reseller, service=below, rate=Decimal("0.50"))
    services = [cheap, dear, custom, below]
    for service in services:
        service.provider.refresh_from_db()
    with django_assert_num_queries(1):  # type: ignore[operator]
        rates = user_rates(user=reseller, services=services)
    assert rates == {
        cheap.pk: Decimal("1.13750"),
        dear.pk: Decimal("21.98302"),
        custom.pk: Decimal("1.50"),
        below.pk: Decimal("1.00000"),
    }
    assert user_rates(user=None, services=services)[dear.pk] == Decimal("25.12345")


def test_it_never_charges_a_user_below_cost_after_the_cost_rose() -> None:
    service = ServiceFactory(upstream_rate=Decimal("1.00"), rate=Decimal("2.00"))
    reseller = UserFactory(role=User.Role.RESELLER, discount_percent=Decimal("90"))
    Service.objects.filter(pk=service.pk).update(upstream_rate=Decimal("1.50"))
    service.refresh_from_db()
    assert user_rate(user=reseller, service=service) == Decimal("1.50000")


def test_it_validates_a_new_provider(sim: Simulator) -> None:
    with pytest.raises(ValidationError, match="API URL"):
        provider_create(name="x", api_url="ftp://nope", api_key="k")
    with pytest.raises(ValidationError, match="API key"):
        provider_create(name="x", api_url=sim.url, api_key=" ")
    with pytest.raises(ValidationError, match="greater than 0"):
        provider_create(name="x", api_url=sim.url, api_key="k", exchange_rate="0")
    with pytest.raises(ValidationError, match="at least 0"):
        provider_create(name="x", api_url=sim.url, api_key="k", default_markup_percent="-1")
    assert not Provider.objects.exists()


def test_it_reprices_when_a_provider_or_category_markup_changes(provider: Provider) -> None:
    service = ServiceFactory(provider=provider, upstream_rate=Decimal("1.00"), rate=Decimal("1.3"))
    provider_update(provider_id=provider.pk, default_markup_percent=Decimal("50"))
    service.refresh_from_db()
    assert service.rate == Decimal("1.50000")
    category_save(category_id=service.category_id, name=service.category.name, markup_percent="100")
    service.refresh_from_db()
    assert service.rate == Decimal("2.00000")
    provider_update(provider_id=provider.pk, exchange_rate="2")
    service.refresh_from_db()
    assert service.rate == Decimal("4.00000")


def test_it_refuses_to_enable_a_service_priced_below_cost() -> None:
    ok = ServiceFactory(is_enabled=False)
    losing = ServiceFactory(is_enabled=False, upstream_rate=Decimal("2"), fixed_rate=Decimal("1"))
    result = services_set_enabled(service_ids=[ok.pk, losing.pk], enabled=True)
    assert (result.changed, result.refused) == (1, [losing.pk])
    assert list(Service.objects.filter(is_enabled=True).values_list("pk", flat=True)) == [ok.pk]


def test_it_tests_the_connection_and_alerts_once_on_low_balance(
    provider: Provider, sim: Simulator, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.ADMINS = [("Admin", "admin@example.com")]  # type: ignore[attr-defined]
    provider_update(provider_id=provider.pk, low_balance_threshold="100")
    check = provider_test_connection(provider_id=provider.pk)
    assert (check.ok, check.balance, check.currency) == (True, Decimal("1000.00000"), "USD")
    assert not CatalogAlert.objects.exists()

    sim.state.set_balance("12.50")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        provider_test_connection(provider_id=provider.pk)
        provider_test_connection(provider_id=provider.pk)
    alert = CatalogAlert.objects.get()
    assert (alert.kind, alert.provider_id) == ("low_balance", provider.pk)
    assert "balance 12.50000 USD is below the threshold 100.00000" in alert.message
    assert len(sent_mail()) == 1
    provider.refresh_from_db()
    assert provider.balance == Decimal("12.50")


def test_it_records_a_failed_connection_test(db: None, sim: Simulator) -> None:
    provider = provider_create(name="Wrong", api_url=sim.url, api_key="not-the-key")
    check = provider_test_connection(provider_id=provider.pk)
    assert not check.ok
    assert "Invalid API key" in check.message
    provider.refresh_from_db()
    assert "Invalid API key" in provider.last_error
    assert "not-the-key" not in provider.last_error


def test_it_finds_providers_due_for_a_sync() -> None:
    now = timezone.now()
    never = ProviderFactory()
    stale = ProviderFactory(sync_interval_minutes=60, last_synced_at=now - timedelta(minutes=61))
    ProviderFactory(sync_interval_minutes=60, last_synced_at=now - timedelta(minutes=59))
    ProviderFactory(is_enabled=False)
    assert sorted(providers_due_for_sync(now=now)) == sorted([never.pk, stale.pk])


def test_it_enqueues_due_syncs_and_runs_one(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[int] = []
    monkeypatch.setattr(tasks.sync_provider, "delay", queued.append)
    tasks.sync_due_providers()
    assert queued == [provider.pk]
    tasks.sync_provider(provider.pk)
    assert Service.objects.filter(provider=provider).count() == 50
    queued.clear()
    tasks.sync_due_providers()
    assert queued == []


def test_it_refreshes_balances_of_enabled_providers(provider: Provider) -> None:
    tasks.refresh_provider_balances()
    provider.refresh_from_db()
    assert provider.balance == Decimal("1000")


def test_it_sells_only_enabled_available_services() -> None:
    visible = CategoryFactory()
    hidden = CategoryFactory(is_visible=False)
    sold = ServiceFactory(category=visible)
    ServiceFactory(category=visible, is_enabled=False)
    ServiceFactory(category=visible, is_available=False)
    ServiceFactory(category=hidden)
    ServiceFactory(category=visible, provider=ProviderFactory(is_enabled=False))
    assert list(services_for_sale()) == [sold]
    assert list(categories_for_sale()) == [visible]


def test_it_rotates_provider_keys(db: None, settings: object) -> None:
    old_key = Fernet.generate_key().decode()
    settings.UPLINE_ENCRYPTION_KEYS = [old_key]  # type: ignore[attr-defined]
    provider = ProviderFactory(api_key="secret-123")
    before = provider.api_key_encrypted
    settings.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]  # type: ignore[attr-defined]
    out = StringIO()

    call_command("rotate_provider_keys", stdout=out)

    assert out.getvalue().strip() == "Re-encrypted 1 provider key(s)."
    provider.refresh_from_db()
    assert provider.api_key_encrypted != before
    assert "secret-123" not in out.getvalue()
    settings.UPLINE_ENCRYPTION_KEYS = settings.UPLINE_ENCRYPTION_KEYS[:1]  # type: ignore[attr-defined]
    assert provider.api_key == "secret-123"  # readable with the new key alone


def test_it_names_providers_whose_key_cannot_be_rotated(db: None, settings: object) -> None:
    settings.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    ProviderFactory(name="Lost", api_key="secret")
    settings.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="Lost"):
        call_command("rotate_provider_keys", stdout=StringIO())


def test_it_creates_a_category_and_refuses_duplicates() -> None:
    category = category_save(category_id=None, name=" Fresh ", sort_order=5)
    assert (category.name, category.sort_order) == ("Fresh", 5)
    with pytest.raises(ValidationError, match="already exists"):
        category_save(category_id=None, name="Fresh")
    assert Category.objects.count() == 1
