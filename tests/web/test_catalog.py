"""The price list and the bulk pricing it uses."""

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.models import Provider, Service, UserRate
from tests.factories import CategoryFactory, ServiceFactory


def test_it_shows_the_price_list_to_visitors(client: Client, service: Service) -> None:
    response = client.get(reverse("price_list"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["rows"]] == [service.pk]
    assert "$1.30" in response.content.decode()


def test_it_can_keep_the_price_list_private(
    client: Client, service: Service, settings: object
) -> None:
    settings.CATALOG_PUBLIC_PRICE_LIST = False  # type: ignore[attr-defined]
    response = client.get(reverse("price_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_filters_by_category_and_search(
    client: Client, provider: Provider, service: Service
) -> None:
    tiktok = CategoryFactory(name="TikTok")
    views = ServiceFactory(provider=provider, category=tiktok, name="TikTok Views")
    by_category = client.get(reverse("price_list"), {"category": tiktok.pk})
    assert by_category.context["rows"] == [views]
    by_search = client.get(reverse("price_list"), {"q": "followers hq"})
    assert by_search.context["rows"] == [service]
    fragment = client.get(reverse("price_list"), {"q": "tiktok"}, HTTP_HX_REQUEST="true")
    assert fragment.templates[0].name == "catalog/_price_rows.html"


def test_it_hides_disabled_services(client: Client, service: Service) -> None:
    service.is_enabled = False
    service.save()
    assert client.get(reverse("price_list")).context["rows"] == []


def test_it_shows_a_resellers_own_prices(client: Client, reseller: User, service: Service) -> None:
    UserRate.objects.create(user=reseller, service=service, rate=Decimal("1.10"))
    client.force_login(reseller)
    response = client.get(reverse("price_list"))
    assert response.context["rows"][0].user_rate == Decimal("1.10")
