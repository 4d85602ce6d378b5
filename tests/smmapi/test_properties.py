"""Whatever a provider answers, the client gives a typed answer or one of its three failure
kinds: never another exception, never a value our columns cannot hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.smmapi import (
    Balance,
    ItemError,
    NotDelivered,
    OrderStatus,
    RefillState,
    Rejected,
    ServiceInfo,
    SMMClient,
    UnknownOutcome,
)
from panel.smmapi.errors import MAX_MESSAGE_CHARS
from panel.smmapi.parsing import (
    INT_MAX,
    INT_MIN,
    MAX_ID_CHARS,
    MAX_MONEY,
    MAX_STATUS_CHARS,
    ShapeError,
    cancel_item,
    item_error,
    order_item,
    parse_balance,
    parse_order_id,
    parse_order_status,
    parse_refill_id,
    parse_refill_state,
    parse_services,
    pick_items,
    refill_item,
    refill_state_item,
)
from tests.smmapi.fakes import FakeProvider

KEYS = [
    "order", "orders", "status", "charge", "start_count", "remains", "currency", "posts",
    "refill", "cancel", "error", "message", "balance", "service", "id", "name", "type", "rate",
    "min", "max", "services", "data", "1", "2", "42",
]  # fmt: skip
ODD_TEXT = ["1e999999", "9" * 5000, "²", "١٢", "NaN", "-Infinity", "\x00", "\udfff", " 12 ", ""]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(ODD_TEXT),
)
answers = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=6),
    ),
    max_leaves=25,
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_item_error(value: ItemError) -> None:
    assert isinstance(value.message, str)
    assert len(value.message) <= MAX_MESSAGE_CHARS
    assert "\x00" not in value.message


def assert_status(value: OrderStatus | ItemError) -> None:
    if isinstance(value, ItemError):
        assert_item_error(value)
        return
    assert isinstance(value, OrderStatus)
    assert len(value.raw_status) <= MAX_STATUS_CHARS
    for number in (value.start_count, value.remains):
        assert number is None or INT_MIN <= number <= INT_MAX
    assert value.posts is None or 0 <= value.posts <= INT_MAX
    assert value.charge is None or (value.charge.is_finite() and abs(value.charge) < MAX_MONEY)
    assert all(isinstance(flag, str) for flag in value.flags)


def assert_id(value: str | ItemError) -> None:
    if isinstance(value, ItemError):
        assert_item_error(value)
    else:
        assert isinstance(value, str)
        assert value
        assert len(value) <= MAX_ID_CHARS


def typed_or_shape_error(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except ShapeError:
        return None


@PROPERTY
@given(payload=answers)
def test_every_parse_function_gives_a_typed_answer_or_a_shape_error(payload: Any) -> None:
    services = typed_or_shape_error(lambda: parse_services(payload))
    if services is not None:
        assert all(isinstance(service, ServiceInfo) for service in services)
        assert all(service.min <= service.max for service in services)
    order_id = typed_or_shape_error(lambda: parse_order_id(payload))
    if order_id is not None:
        assert_id(order_id)
    status = typed_or_shape_error(lambda: parse_order_status(payload, "42"))
    if status is not None:
        assert_status(status)
    refill = typed_or_shape_error(lambda: parse_refill_id(payload))
    if refill is not None:
        assert_id(refill)
    state = typed_or_shape_error(lambda: parse_refill_state(payload))
    if state is not None:
        assert isinstance(state, RefillState | ItemError)
    balance = typed_or_shape_error(lambda: parse_balance(payload))
    if balance is not None:
        assert isinstance(balance, Balance)
        assert abs(balance.amount) < MAX_MONEY
    error = item_error(payload)
    assert error is None or isinstance(error, ItemError)
    assert_status(order_item(payload))
    assert_id(refill_item(payload))
    assert isinstance(refill_state_item(payload), RefillState | ItemError)
    assert isinstance(cancel_item(payload), bool | ItemError)
    for value_field in (None, "refill", "status", "cancel"):
        found = typed_or_shape_error(
            lambda value_field=value_field: pick_items(
                payload, ["1", "42"], id_field="order", value_field=value_field
            )
        )
        assert found is None or set(found) <= {"1", "42"}


def _body(payload: Any) -> bytes:
    return json.dumps(payload, default=str).encode()


CALLS: list[Callable[[SMMClient], object]] = [
    lambda client: client.services(),
    lambda client: client.add("1", {"link": "https://x.com/a", "quantity": 100}),
    lambda client: client.status("42"),
    lambda client: client.statuses(["1", "42"]),
    lambda client: client.refill("42"),
    lambda client: client.refills(["1", "42"]),
    lambda client: client.refill_status("42"),
    lambda client: client.refill_statuses(["1", "42"]),
    lambda client: client.cancel(["1", "42"]),
    lambda client: client.balance(),
]


@PROPERTY
@given(
    call=st.sampled_from(CALLS),
    status_code=st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503]),
    body=st.one_of(
        answers.map(_body),
        st.binary(max_size=100),
        st.sampled_from([b"[" * 100_000, b"\xef\xbb\xbf{}", b"", b"{" * 3 + b'"', b"\xff\xfe"]),
    ),
)
def test_every_http_answer_becomes_a_typed_answer_or_one_of_three_failures(
    call: Callable[[SMMClient], object], status_code: int, body: bytes
) -> None:
    provider = FakeProvider(httpx.Response(status_code, content=body))
    with provider.client() as client:
        try:
            answer = call(client)
        except (NotDelivered, Rejected, UnknownOutcome) as exc:
            failure = exc
        else:
            failure = None
    assert provider.requests
    if failure is not None:
        # An answer came back: the request was delivered, whatever the answer says.
        assert not isinstance(failure, NotDelivered)
        assert len(failure.message) <= MAX_MESSAGE_CHARS
        return
    if isinstance(answer, OrderStatus):
        assert_status(answer)
    elif isinstance(answer, dict):
        for value in answer.values():
            if isinstance(value, OrderStatus | ItemError):
                assert_status(value)
    elif isinstance(answer, str):
        assert_id(answer)
    elif isinstance(answer, Balance):
        assert isinstance(answer.amount, Decimal)
