"""Requests without a usable key still count against their IP's limit."""

from typing import Any

from django.test import Client

from tests.api.conftest import V2


def test_it_limits_keyless_and_unreadable_requests_per_ip(
    client: Client, key: str, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_IP = 2
    keyless = client.post(V2, {"action": "balance"}, REMOTE_ADDR="10.3.0.1")
    unreadable = client.post(V2, b"[1]", content_type="application/json", REMOTE_ADDR="10.3.0.1")
    assert (keyless.json(), unreadable.json()) == (
        {"error": "Invalid API key"},
        {"error": "Incorrect request"},
    )

    for body, content_type in (({"action": "balance"}, None), (b"[1]", "application/json")):
        kwargs = {"content_type": content_type} if content_type else {}
        refused = client.post(V2, body, REMOTE_ADDR="10.3.0.1", **kwargs)
        assert (refused.status_code, refused.json()) == (429, {"error": "Too many requests"})
    refused = client.post(V2, {"key": key, "action": "balance"}, REMOTE_ADDR="10.3.0.1")
    assert refused.status_code == 429
    assert client.post(V2, {"key": key, "action": "balance"}, REMOTE_ADDR="10.3.0.2").json() == {
        "balance": "100.00",
        "currency": "USD",
    }
