"""Rate limits per key, per IP, and on failed authentications, for both APIs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import V2


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.API_RATE_LIMIT_PER_KEY = 3
    settings.API_RATE_LIMIT_PER_IP = 5
    settings.API_RATE_LIMIT_FAILED_AUTH_PER_IP = 2
    return settings


def post(client: Client, key: str, ip: str = "10.0.0.1") -> Any:
    return client.post(V2, {"key": key, "action": "balance"}, REMOTE_ADDR=ip)


def test_it_limits_requests_per_key(client: Client, key: str, limits: Any) -> None:
    answers = [post(client, key, ip=f"10.0.0.{i}") for i in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json() == {"error": "Too many requests"}
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60


def test_it_limits_requests_per_ip_before_touching_the_database(
    client: Client, key: str, other_key: str, limits: Any
) -> None:
    for k in (key, key, other_key, other_key, "junk"):
        post(client, k)
    with CaptureQueriesContext(connection) as queries:
        response = post(client, other_key)
    assert response.status_code == 429
    assert queries.captured_queries == []
    assert post(client, key, ip="10.0.0.2").status_code == 200


def test_it_slows_a_flood_of_bad_keys_from_one_ip(client: Client, key: str, limits: Any) -> None:
    assert post(client, "guess-1").json() == {"error": "Invalid API key"}
    assert post(client, "guess-2").json() == {"error": "Invalid API key"}
    # Even the right key is refused from that address for the rest of the window…
    with CaptureQueriesContext(connection) as queries:
        refused = post(client, key)
    assert (refused.status_code, refused.json()) == (429, {"error": "Too many requests"})
    assert queries.captured_queries == []
    # …but not from anywhere else.
    assert post(client, key, ip="10.0.0.9").json() == {"balance": "100.00", "currency": "USD"}


def test_it_counts_rest_and_v2_requests_together(client: Client, key: str, limits: Any) -> None:
    for _ in range(3):
        response = client.get("/api/v1/balance/", HTTP_X_API_KEY=key, REMOTE_ADDR="10.1.0.1")
        assert response.status_code == 200
    response = client.get("/api/v1/balance/", HTTP_X_API_KEY=key, REMOTE_ADDR="10.1.0.2")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert post(client, key, ip="10.1.0.3").status_code == 429


def test_it_slows_bad_rest_keys_too(client: Client, key: str, limits: Any) -> None:
    for guess in ("a" * 20, "b" * 20):
        response = client.get("/api/v1/balance/", HTTP_X_API_KEY=guess, REMOTE_ADDR="10.2.0.1")
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid API key", "code": "authentication_failed"}
    response = client.get("/api/v1/balance/", HTTP_X_API_KEY=key, REMOTE_ADDR="10.2.0.1")
    assert response.status_code == 429
