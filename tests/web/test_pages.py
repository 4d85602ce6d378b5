"""Every customer page: signed-in customers get it, visitors are sent to sign in."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, User
from catalog.models import Service
from orders.models import Order

PRIVATE_PAGES = [
    "order_new",
    "order_mass",
    "order_list",
    "add_funds",
    "transactions",
    "api_page",
    "profile",
]


@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_it_sends_visitors_to_sign_in(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_it_shows_each_page_to_a_customer(
    client: Client, customer: User, service: Service, name: str
) -> None:
    client.force_login(customer)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b"$100.00" in response.content  # the balance in the top bar


def test_it_shows_the_landing_page_to_visitors(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert reverse("account_signup").encode() in response.content
    assert b"Dashboard" not in response.content


def test_it_shows_the_dashboard(client: Client, customer: User, service: Service) -> None:
    Order.objects.create(
        user=customer,
        service=service,
        provider=service.provider,
        upstream_service_id=service.upstream_id,
        type="Default",
        link="https://instagram.com/a",
        quantity=100,
        rate=Decimal("1.3"),
        charge=Decimal("0.13"),
        status=Order.Status.COMPLETED,
    )
    client.force_login(customer)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dashboard" in body
    assert "https://instagram.com/a" in body
    assert "Completed" in body


def test_it_styles_the_sign_in_page_like_the_panel(client: Client, db: None) -> None:
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "css/panel.css" in body
    assert 'class="card auth-card"' in body
    assert 'class="btn btn-primary"' in body


def test_it_styles_the_two_factor_page(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.get(reverse("mfa_index"))
    assert response.status_code == 200
    assert "css/panel.css" in response.content.decode()


def test_it_saves_the_profile(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("profile"),
        {"first_name": "Ann", "last_name": "Lee", "timezone": "Europe/Moscow", "language": "ru"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.timezone, customer.language) == (
        "Ann",
        "Europe/Moscow",
        "ru",
    )


def test_it_refuses_an_unknown_timezone(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.post(reverse("profile"), {"timezone": "Mars/Olympus", "language": ""})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.timezone == "UTC"


def test_it_shows_a_new_api_key_once(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.post(reverse("api_key_rotate"))
    assert response.status_code == 200
    raw_key = response.context["raw_key"]
    api_key = ApiKey.objects.get(user=customer)
    assert raw_key.startswith(api_key.prefix)
    assert raw_key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    again = client.get(reverse("api_page")).content.decode()
    assert raw_key not in again
    assert api_key.prefix in again


def test_it_documents_the_api_with_the_users_base_url(client: Client, customer: User) -> None:
    client.force_login(customer)
    body = client.get(reverse("api_page")).content.decode()
    assert "http://testserver/api/v2" in body
    for action in ("services", "add", "status", "refill", "refill_status", "cancel", "balance"):
        assert f'id="action-{action}"' in body
    assert "curl -X POST http://testserver/api/v2" in body
    assert "curl_init" in body  # PHP
    assert "requests.post" in body  # Python


def test_it_revokes_the_api_key(client: Client, customer: User) -> None:
    client.force_login(customer)
    client.post(reverse("api_key_rotate"))
    response = client.post(reverse("api_key_revoke"))
    assert response.status_code == 302
    assert not ApiKey.objects.filter(user=customer).exists()


def test_it_refuses_get_on_key_rotation(client: Client, customer: User) -> None:
    client.force_login(customer)
    assert client.get(reverse("api_key_rotate")).status_code == 405
    assert not ApiKey.objects.filter(user=customer).exists()


def test_it_lists_the_ledger(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.get(reverse("transactions"))
    assert response.status_code == 200
    assert "Deposit" in response.content.decode()
    assert client.get(reverse("transactions") + "?kind=bogus&page=x").status_code == 200


def test_it_explains_when_no_payment_method_is_enabled(
    client: Client, customer: User, settings: object
) -> None:
    settings.STRIPE_SECRET_KEY = ""  # type: ignore[attr-defined]
    client.force_login(customer)
    response = client.get(reverse("add_funds"))
    assert response.status_code == 200
    assert "not available right now" in response.content.decode()
