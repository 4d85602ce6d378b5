"""HTTP 429 / rate-limit answers (retry later, never a failure) and a subscription's ``posts``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from panel.smmapi import OrderState, OrderStatus, Rejected, RejectReason, UnknownOutcome
from tests.smmapi.fakes import FakeProvider, answering, raw


@pytest.mark.parametrize(
    "message", ["Too many requests", "Not enough funds on balance", "Slow down", ""]
)
def test_it_classifies_a_429_with_a_json_error_as_rate_limited(message: str) -> None:
    # A 429 means the request was refused before it was acted on, whatever the sentence says.
    provider = answering({"error": message or "x"}, 429)
    with pytest.raises(Rejected) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert (caught.value.reason, caught.value.http_status, caught.value.action) == (
        RejectReason.RATE_LIMITED,
        429,
        "add",
    )
    assert len(provider.requests) == 1


def test_it_keeps_a_429_without_a_json_error_an_unknown_outcome() -> None:
    provider = FakeProvider(raw("<html>429 Too Many Requests</html>", status=429))
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.http_status == 429


@pytest.mark.parametrize(
    "message",
    ["Too many requests", "Rate limit exceeded", "error.rate_limited", "Too Many Requests, retry"],
)
def test_it_recognises_rate_limit_sentences(message: str) -> None:
    with pytest.raises(Rejected) as caught, answering({"error": message}).client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.reason == RejectReason.RATE_LIMITED


@pytest.mark.parametrize(
    ("posts", "expected"),
    [("3", 3), (4, 4), ("4.0", 4), ("", None), (None, None), ("Unknown", None), ("1.5", None)],
)
def test_it_parses_the_posts_of_a_subscription_status(posts: object, expected: int | None) -> None:
    answer = {"charge": "0.3", "status": "Active", "remains": "2", "posts": posts}
    with answering(answer).client() as client:
        status = client.status("9")
    assert status == OrderStatus(
        status=OrderState.ACTIVE,
        raw_status="Active",
        charge=Decimal("0.3"),
        start_count=None,
        remains=2,
        currency=None,
        posts=expected,
    )


def test_it_leaves_posts_empty_when_the_provider_does_not_send_them() -> None:
    with answering({"orders": None, "1": {"status": "Completed"}}).client() as client:
        assert client.statuses(["1"])["1"].posts is None  # type: ignore[union-attr]
