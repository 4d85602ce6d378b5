"""CSRF on every cookie-authenticated write, safe redirects, headers, NUL characters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.models import Service
from orders.models import Order
from tests.web.conftest import make_order

CSP = "Content-Security-Policy"


@pytest.fixture
def csrf_client(customer: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    return client


def test_it_refuses_cookie_authenticated_writes_without_the_csrf_token(
    csrf_client: Client, customer: User, service: Service
) -> None:
    order = make_order(customer, service)
    for path, data in (
        ("/orders/new/", {"service": service.pk, "link": "https://x.com/a", "quantity": "100"}),
        ("/orders/new/quote/", {"service": service.pk}),
        ("/orders/mass/", {"orders": f"{service.pk} | https://x.com/a | 100"}),
        (f"/orders/{order.pk}/cancel/", {}),
        (f"/orders/{order.pk}/refill/", {}),
        ("/funds/", {"gateway": "stripe", "amount": "10"}),
        ("/api-access/rotate/", {}),
        ("/api-access/revoke/", {}),
        ("/account/", {"first_name": "X", "timezone": "UTC"}),
        ("/language/", {"language": "ru"}),
        ("/accounts/logout/", {}),
        ("/api/v1/orders/", {"service": service.pk, "link": "https://x.com/a", "quantity": 1}),
        (f"/api/v1/orders/{order.pk}/cancel/", {}),
    ):
        assert csrf_client.post(path, data).status_code == 403, path
    order.refresh_from_db()
    assert order.status == Order.Status.QUEUED
    assert Order.objects.filter(user=customer).count() == 1


def test_it_sends_the_csrf_token_with_htmx_requests(signed_in: Client) -> None:
    body = signed_in.get("/orders/new/").content.decode()
    token = signed_in.cookies["csrftoken"].value
    assert token
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_it_never_redirects_off_site(
    signed_in: Client, customer: User, service: Service, target: str
) -> None:
    order = make_order(customer, service)
    response = signed_in.post(f"/orders/{order.pk}/cancel/", {"next": target})
    assert response["Location"] == reverse("order_detail", args=[order.pk])
    response = signed_in.post("/language/", {"language": "en", "next": target})
    assert response["Location"] == "/"
    response = signed_in.get("/accounts/login/", {"next": target})
    assert target not in response.content.decode()


def test_it_sends_a_content_security_policy_on_pages(client: Client, signed_in: Client) -> None:
    for response in (Client().get("/"), signed_in.get("/orders/new/")):
        policy = response[CSP]
        assert "script-src 'self';" in policy
        assert "unsafe-eval" not in policy
        assert "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
    assert CSP not in signed_in.get("/healthz")


def test_it_refuses_nul_characters_with_a_400(
    signed_in: Client, customer: User, service: Service
) -> None:
    for response in (
        signed_in.get("/orders/", {"q": "a\x00b"}),
        signed_in.get("/services/", {"q": "\x00"}),
        signed_in.post(
            "/orders/new/", {"service": service.pk, "link": "https://x.com/\x00", "quantity": "10"}
        ),
        signed_in.post("/account/", {"first_name": "\x00", "timezone": "UTC"}),
    ):
        assert response.status_code == 400
        assert response.content.decode() == (
            "The request contains a NUL character, which is not allowed."
        )
    assert Order.objects.filter(user=customer).count() == 0


def test_it_ignores_privileged_fields_posted_to_the_profile(
    signed_in: Client, customer: User
) -> None:
    response = signed_in.post(
        "/account/",
        {
            "first_name": "Ann",
            "timezone": "UTC",
            "balance": "1000000",
            "role": User.Role.RESELLER,
            "is_staff": "on",
            "is_superuser": "on",
            "discount_percent": "100",
            "email": "attacker@example.com",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.first_name == "Ann"
    assert customer.balance == Decimal("100.00")
    assert (customer.role, customer.is_staff, customer.is_superuser) == (
        User.Role.CUSTOMER,
        False,
        False,
    )
    assert customer.discount_percent == 0
    assert customer.email == "customer@example.com"
