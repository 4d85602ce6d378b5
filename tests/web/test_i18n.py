"""English and Russian: the switch, the profile language, money and dates per locale."""

from decimal import Decimal

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.templatetags.upline import money
from catalog.models import Service


def test_it_switches_a_visitor_to_russian(client: Client, db: None) -> None:
    response = client.post(reverse("language_set"), {"language": "ru", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    body = client.get("/").content.decode()
    assert '<html lang="ru">' in body
    assert "Создать аккаунт" in body


def test_it_saves_a_customers_language_choice(client: Client, customer: User) -> None:
    client.force_login(customer)
    client.post(reverse("language_set"), {"language": "ru", "next": "/"})
    customer.refresh_from_db()
    assert customer.language == "ru"


def test_it_shows_pages_in_the_profile_language_on_any_device(
    client: Client, customer: User, service: Service
) -> None:
    customer.language = "ru"
    customer.save()
    client.force_login(customer)
    body = client.get(reverse("order_new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Новый заказ" in body
    assert "100,00\u00a0$" in body  # Russian number format, symbol after


def test_it_refuses_an_unknown_language(client: Client, customer: User) -> None:
    client.force_login(customer)
    client.post(reverse("language_set"), {"language": "xx", "next": "/"})
    customer.refresh_from_db()
    assert customer.language == ""


def test_it_formats_money_per_locale() -> None:
    with translation.override("en"):
        assert money(Decimal("1234.5")) == "$1,234.50"
        assert money(Decimal("0.00125")) == "$0.00125"
        assert money(Decimal("-2")) == "−$2.00"
    with translation.override("ru"):
        assert money(Decimal("1234.5")) == "1\u00a0234,50\u00a0$"


def test_it_translates_service_errors(client: Client, customer: User, service: Service) -> None:
    customer.language = "ru"
    customer.save()
    client.force_login(customer)
    response = client.post(
        reverse("order_new"),
        {"service": service.pk, "link": "https://x.com/a", "quantity": "1", "idempotency_key": "r"},
    )
    assert response.context["form"].errors == {"quantity": ["Количество должно быть не меньше 10."]}
