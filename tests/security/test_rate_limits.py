"""Per-customer limits on the pages that place orders, quote while typing, start payments and
make API keys; logins, sign-ups and password resets are limited by allauth."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.test import Client

from accounts.models import ApiKey, Payment, User
from catalog.models import Service
from orders.models import Order


def test_it_limits_the_live_quote_per_customer(
    signed_in: Client, client: Client, other_user: User, service: Service, settings: Any
) -> None:
    settings.WEB_RATE_LIMITS = {**django_settings.WEB_RATE_LIMITS, "live": 3}
    data = {"service": service.pk, "link": "https://instagram.com/a", "quantity": "100"}
    hx = {"HX-Request": "true"}
    statuses = [
        signed_in.post("/orders/new/quote/", data, headers=hx).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = signed_in.post("/orders/new/quote/", data, headers=hx)
    assert limited.content.decode() == "Too many requests. Please wait a minute and try again."
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert signed_in.get("/orders/new/search/", {"q": "Insta"}).status_code == 429
    # Another customer has their own budget.
    other = Client()
    other.force_login(other_user)
    assert other.post("/orders/new/quote/", data, headers=hx).status_code == 200


def test_it_limits_placing_orders_per_customer(
    signed_in: Client, customer: User, service: Service, settings: Any
) -> None:
    settings.WEB_RATE_LIMITS = {**django_settings.WEB_RATE_LIMITS, "order": 2}
    for n in range(2):
        response = signed_in.post(
            "/orders/new/",
            {
                "service": service.pk,
                "link": f"https://instagram.com/p{n}",
                "quantity": "100",
                "idempotency_key": f"k{n}",
            },
        )
        assert response.status_code == 302
    limited = signed_in.post(
        "/orders/mass/", {"orders": f"{service.pk} | https://instagram.com/m | 100"}
    )
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert Order.objects.filter(user=customer).count() == 2
    # Reading pages is not limited.
    assert signed_in.get("/orders/new/").status_code == 200


def test_it_limits_starting_payments_and_making_api_keys(
    signed_in: Client, customer: User, settings: Any
) -> None:
    settings.WEB_RATE_LIMITS = {**django_settings.WEB_RATE_LIMITS, "payment": 1, "api_key": 1}
    assert signed_in.post("/funds/", {"gateway": "stripe", "amount": "10"}).status_code == 200
    assert signed_in.post("/funds/", {"gateway": "stripe", "amount": "10"}).status_code == 429
    assert Payment.objects.filter(user=customer).count() == 0
    assert signed_in.post("/api-access/rotate/").status_code == 200
    first = ApiKey.objects.get(user=customer).key_hash
    assert signed_in.post("/api-access/rotate/").status_code == 429
    assert ApiKey.objects.get(user=customer).key_hash == first


def test_it_keeps_allauths_limits_on_signup_login_and_password_reset() -> None:
    from allauth.account import app_settings

    limits = app_settings.RATE_LIMITS
    for action in ("login", "login_failed", "signup", "reset_password", "reset_password_from_key"):
        assert limits.get(action), action


def test_it_takes_the_client_address_from_the_trusted_proxy_only(settings: Any) -> None:
    from allauth.account.adapter import get_adapter
    from django.test import RequestFactory

    from accounts.authentication import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    # No proxy configured: a client-written header is ignored.
    settings.UPLINE_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    assert get_adapter().get_client_ip(request) == "10.0.0.2"
    # One proxy: the address it appended, never the spoofable entries to its left.
    settings.UPLINE_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"
    assert get_adapter().get_client_ip(request) == "203.0.113.7"
    # A request that bypassed the proxy carries no header: its own address.
    direct = RequestFactory().get("/", REMOTE_ADDR="198.51.100.9")
    assert client_ip(direct) == "198.51.100.9"
