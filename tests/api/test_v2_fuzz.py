"""Whatever arrives at /api/v2, the answer is JSON with a canonical shape, never a 500, and a
request answered with an error writes no order and no ledger row."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import LedgerEntry
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
    "posts",
    "delay",
    "expiry",
    "request_id",
    "key",
]
# Numbers Python's int() reads although they are not ASCII decimal text.
ODD_NUMBERS = ["١٠٠", "１００", "𝟙𝟘𝟘", "+100", "1_000", "0100", "100.0", "1e3", "-0", "²"]
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xDFFF), max_size=20),
    st.sampled_from(ODD_NUMBERS),
    st.from_regex(r"-?[0-9]{0,25}(\.[0-9]{0,3})?", fullmatch=True),
    st.lists(st.integers(-5, 10**20).map(str), max_size=120).map(",".join),
    st.sampled_from(["https://x.com/a", "https://x.com/\udfff", "\x00", "100"]),
)
json_value = st.one_of(
    text,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 10**6), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
CONTENT_TYPES = [
    "application/octet-stream",
    "application/json",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data; boundary=x",
    "text/plain; charset=nope",
    "",
]


def _rows() -> tuple[int, int]:
    return Order.objects.count(), LedgerEntry.objects.count()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.sampled_from(ACTIONS),
    fields=st.dictionaries(st.sampled_from(FIELDS), text, max_size=6),
    json_fields=st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=6),
    style=st.sampled_from(["form", "get", "json", "json-any", "raw"]),
    content_type=st.sampled_from(CONTENT_TYPES),
    raw=st.binary(max_size=200),
)
def test_it_never_fails_on_any_input(
    client: Client,
    key: str,
    action: str,
    fields: dict[str, str],
    json_fields: dict[str, Any],
    style: str,
    content_type: str,
    raw: bytes,
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
    before = _rows()
    if style == "form":
        # The test client cannot encode a lone surrogate in a form; JSON carries it as \udfff.
        safe = {k: v.encode("utf-8", "replace").decode() for k, v in params.items()}
        response = client.post(V2, safe)
    elif style == "get":
        safe = {k: v.encode("utf-8", "replace").decode() for k, v in params.items()}
        response = client.get(V2, safe)
    elif style == "json":
        response = client.post(V2, json.dumps(params), content_type="application/json")
    elif style == "json-any":
        body = json.dumps({"key": key, "action": action, **json_fields})
        response = client.post(V2, body, content_type="application/json")
    else:
        response = client.generic("POST", V2, raw, content_type=content_type)
    # 429: the keyless and bad-key requests of one run add up to the per-IP limit.
    assert response.status_code in (200, 429), response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict | list)
    if isinstance(body, dict) and "error" in body:
        assert isinstance(body["error"], str)
        assert body["error"]
        assert _rows() == before, (params, body)
