"""The 500-hunt: every customer page and form, driven with odd input, answers below 500."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Service

ODD_VALUES = [
    "abc",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999999999",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "%",
    "'; DROP TABLE orders; --",
    "１２３",  # full-width digits: isdigit() is True, int() accepts them
    "²",  # isdigit() is True, int() refuses it
]

GET_PAGES = [
    ("/", ["page", "status"]),
    ("/orders/", ["page", "status", "q"]),
    ("/orders/new/", ["service", "category"]),
    ("/orders/new/search/", ["q"]),
    ("/orders/new/service/", ["service", "category", "changed"]),
    ("/orders/mass/", []),
    ("/services/", ["page", "q", "category"]),
    ("/funds/", ["page"]),
    ("/transactions/", ["page", "kind"]),
    ("/api-access/", []),
    ("/account/", []),
]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_it_never_answers_500_to_odd_query_params(
    signed_in: Client, service: Service, value: str
) -> None:
    for path, params in GET_PAGES:
        for name in params:
            response = signed_in.get(path, {name: value})
            assert response.status_code < 500, (path, name, value)
            response = signed_in.get(path, {name: value}, headers={"HX-Request": "true"})
            assert response.status_code < 500, (path, name, value)


@pytest.mark.parametrize("value", ODD_VALUES)
def test_it_never_answers_500_to_odd_form_posts(
    signed_in: Client, service: Service, value: str
) -> None:
    forms = [
        ("/orders/new/", {"service": service.pk, "link": value, "quantity": "100"}),
        ("/orders/new/", {"service": service.pk, "link": "https://x.com/a", "quantity": value}),
        ("/orders/new/", {"service": value, "category": value, "idempotency_key": value}),
        ("/orders/new/quote/", {"service": service.pk, "link": value, "quantity": value}),
        ("/orders/new/quote/", {"service": value}),
        ("/orders/mass/", {"orders": f"{service.pk} | {value} | 100", "batch": value}),
        ("/orders/mass/", {"orders": f"{value} | https://x.com/a | {value}"}),
        ("/funds/", {"gateway": value, "amount": value}),
        ("/account/", {"first_name": value, "last_name": value, "timezone": value}),
        ("/account/", {"first_name": "A", "timezone": "UTC", "language": value}),
        ("/language/", {"language": value, "next": value}),
    ]
    for path, data in forms:
        response = signed_in.post(path, data)
        assert response.status_code < 500, (path, data)


def test_it_never_answers_500_to_odd_ids_in_urls(signed_in: Client) -> None:
    for path in [
        "/orders/99999999999999999999/",
        "/orders/9223372036854775808/",
        "/orders/abc/",
        "/payments/99999999999999999999/return/success/",
    ]:
        assert signed_in.get(path).status_code == 404, path
    for path in [
        "/orders/99999999999999999999/refill/",
        "/orders/99999999999999999999/cancel/",
    ]:
        assert signed_in.post(path).status_code == 404, path


def test_it_refuses_an_api_key_with_a_nul_character(client: Client, db: None) -> None:
    for key in ("\x00", "abcd\x00efgh"):
        response = client.get("/api/v1/orders/", HTTP_X_API_KEY=key)
        assert (response.status_code, response.json()) == (
            401,
            {"error": "Invalid API key", "code": "authentication_failed"},
        )
