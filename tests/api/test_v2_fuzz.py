"""Whatever arrives at /api/v2, the answer is JSON with a canonical shape, never a 500."""

from __future__ import annotations

from typing import Any

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import Order
from tests.api.conftest import V2
from tests.factories import ServiceFactory

ACTIONS = ["services", "add", "status", "refill", "refill_status", "cancel", "balance", "x", ""]
FIELDS = [
    "service",
    "link",
    "quantity",
    "runs",
    "interval",
    "order",
    "orders",
    "refill",
    "refills",
    "comments",
    "usernames",
    "min",
    "max",
    "delay",
    "expiry",
    "request_id",
]
text = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?[0-9]{0,25}(\.[0-9]{0,3})?", fullmatch=True),
    st.lists(st.integers(-5, 10**20).map(str), max_size=120).map(",".join),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.sampled_from(ACTIONS),
    fields=st.dictionaries(st.sampled_from(FIELDS), text, max_size=6),
    style=st.sampled_from(["form", "get", "json", "raw"]),
    raw=st.binary(max_size=200),
)
def test_it_never_fails_on_any_input(
    client: Client, key: str, action: str, fields: dict[str, str], style: str, raw: bytes
) -> None:
    if not Order.objects.exists():
        service = ServiceFactory(dripfeed=True)
        client.post(
            V2,
            {
                "key": key,
                "action": "add",
                "service": service.pk,
                "link": "https://x.com/a",
                "quantity": "100",
            },
        )
    params: dict[str, Any] = {"key": key, "action": action, **fields}
    if style == "form":
        response = client.post(V2, params)
    elif style == "get":
        response = client.get(V2, params)
    elif style == "json":
        response = client.post(V2, params, content_type="application/json")
    else:
        response = client.generic("POST", V2, raw, content_type="application/octet-stream")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, (dict, list))
    if isinstance(body, dict) and "error" in body:
        assert isinstance(body["error"], str)
        assert body["error"]
