"""/api/v2 is served from the top of the middleware stack (orders/api/v2/middleware.py)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from accounts.models import User
from tests.api.conftest import V2


def test_it_answers_without_touching_sessions_csrf_or_locale(
    client: Client, key: str, customer: User
) -> None:
    client.cookies["sessionid"] = "not-a-session"
    client.cookies["django_language"] = "ru"
    response = client.post(V2, {"key": key, "action": "balance"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert response.json() == {"balance": "100.00", "currency": "USD"}
    # No session read (it would add Vary: Cookie), no cookie set, no language negotiated.
    assert "Vary" not in response
    assert not response.cookies
    assert "Content-Language" not in response
    # Security headers still come from SecurityMiddleware, framing is still refused.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/"])
def test_it_serves_both_spellings(client: Client, key: str, path: str) -> None:
    response = client.post(path, {"key": key, "action": "balance"})
    assert response.status_code == 200
    assert set(response.json()) == {"balance", "currency"}


@override_settings(ALLOWED_HOSTS=["panel.example"])
def test_it_still_refuses_a_host_outside_allowed_hosts(client: Client, key: str) -> None:
    response = client.post(V2, {"key": key, "action": "balance"}, HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_it_leaves_other_paths_to_the_full_stack(client: Client) -> None:
    response = client.get("/api/v1/services/")
    # The REST API goes through the usual middleware (its session-aware authentication).
    assert response.status_code in (401, 403)
    assert response["X-Frame-Options"] == "DENY"
