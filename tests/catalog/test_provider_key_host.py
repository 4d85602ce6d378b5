"""Issue 10: the stored API key only ever goes to the host it was entered for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.admin.providers import ProviderForm
from catalog.models import Provider
from catalog.services import provider_create, provider_update
from catalog.services.providers import url_host

pytestmark = pytest.mark.django_db
URL = "https://provider.example/api/v2"


@pytest.fixture
def provider() -> Provider:
    return provider_create(name="Upstream", api_url=URL, api_key="stored-key")


def form_data(provider: Provider, **changes: str) -> dict[str, str]:
    return {
        "name": provider.name,
        "api_url": provider.api_url,
        "api_key": "",
        "currency": "USD",
        "exchange_rate": "1",
        "default_markup_percent": "",
        "is_enabled": "on",
        "sync_interval_minutes": "60",
        "low_balance_threshold": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Provider.Example./api/v2", ("provider.example", None)),
        ("https://provider.example:8443/api", ("provider.example", 8443)),
        ("https://user:pw@provider.example/api", ("provider.example", None)),
        ("https://provider.example:99999/api", ("provider.example", None)),
    ],
)
def test_it_reads_the_host_a_url_sends_to(url: str, host: tuple[str, int | None]) -> None:
    assert url_host(url) == host


@pytest.mark.parametrize(
    "url",
    ["https://attacker.example/api/v2", "https://provider.example:8443/api/v2",
     "https://provider.example.attacker.example/api/v2"],
)  # fmt: skip
def test_it_refuses_a_new_host_without_the_key_again(provider: Provider, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        provider_update(provider_id=provider.pk, api_url=url)
    assert "api_key" in caught.value.message_dict
    provider.refresh_from_db()
    assert (provider.api_url, provider.api_key) == (URL, "stored-key")


def test_it_changes_the_host_with_a_new_key(provider: Provider) -> None:
    provider_update(provider_id=provider.pk, api_url="https://new.example/api/v2", api_key="k2")
    provider.refresh_from_db()
    assert (provider.api_url, provider.api_key) == ("https://new.example/api/v2", "k2")


def test_it_keeps_the_key_for_a_new_path_or_scheme_on_the_same_host(provider: Provider) -> None:
    provider_update(provider_id=provider.pk, api_url="https://PROVIDER.example/api/v3")
    provider.refresh_from_db()
    assert (provider.api_url, provider.api_key) == ("https://PROVIDER.example/api/v3", "stored-key")


def test_the_admin_form_asks_for_the_key_when_the_host_changes(provider: Provider) -> None:
    form = ProviderForm(
        data=form_data(provider, api_url="https://attacker.example/api/v2"), instance=provider
    )
    assert not form.is_valid()
    assert "api_key" in form.errors
    form = ProviderForm(
        data=form_data(provider, api_url="https://attacker.example/api/v2", api_key="k2"),
        instance=provider,
    )
    assert form.is_valid(), form.errors


def test_the_admin_never_sends_the_stored_key_to_a_newly_typed_host(
    client: Client, admin_user: User, provider: Provider
) -> None:
    client.force_login(admin_user)
    page = client.post(
        reverse("admin:catalog_provider_change", args=[provider.pk]),
        form_data(provider, api_url="https://attacker.example/api/v2"),
    )
    assert page.status_code == 200  # the form again, with the error on the key field
    provider.refresh_from_db()
    assert provider.api_url == URL
