"""add, status(es), refill(s), refill status(es), cancel and balance in all their shapes."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from panel.smmapi import (
    Balance,
    ItemError,
    OrderState,
    OrderStatus,
    RefillOutcome,
    RefillState,
    Rejected,
    RejectReason,
    UnknownOutcome,
)
from tests.smmapi.fakes import KEY, FakeProvider, answering

MISSING = ItemError(
    message="The provider's answer did not mention this id.", reason=RejectReason.UNKNOWN
)
BAD_ID = ItemError(message="Incorrect order ID", reason=RejectReason.BAD_ORDER_ID)


@pytest.mark.parametrize(
    "payload",
    [{"order": 23501}, {"order": "23501"}, {"status": "success", "order": 23501}],
)
def test_it_returns_the_upstream_order_id(payload: object) -> None:
    with answering(payload).client() as client:
        assert client.add("1", {"link": "x", "quantity": 100}) == "23501"


def test_it_parses_a_single_status() -> None:
    provider = answering(
        {"charge": "0.27819", "start_count": "3572", "status": "Partial", "remains": "157",
         "currency": "USD"}
    )  # fmt: skip
    with provider.client() as client:
        status = client.status("42")
    assert status == OrderStatus(
        status=OrderState.PARTIAL,
        raw_status="Partial",
        charge=Decimal("0.27819"),
        start_count=3572,
        remains=157,
        currency="USD",
    )
    assert provider.forms() == [{"key": KEY, "action": "status", "order": "42"}]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "pending", "charge": 0.036, "start_count": "0", "remains": "0"},
         OrderStatus(OrderState.PENDING, "pending", Decimal("0.036"), 0, 0, None)),
        ({"status": "In Progress", "charge": "1", "start_count": "", "remains": "Unknown"},
         OrderStatus(OrderState.IN_PROGRESS, "In Progress", Decimal("1"), None, None, None)),
        ({"status": "Completed", "start_count": None, "remains": -25, "currency": "usd"},
         OrderStatus(OrderState.COMPLETED, "Completed", None, None, -25, "USD")),
        ({"status": "Refunded", "charge": "abc", "remains": "99999"},
         OrderStatus(OrderState.CANCELED, "Refunded", None, None, 99999, None)),
        ({"status": "Teleported"},
         OrderStatus(OrderState.UNKNOWN, "Teleported", None, None, None, None)),
        ({}, OrderStatus(OrderState.UNKNOWN, "", None, None, None, None)),
    ],
    ids=["seed", "unknown-remains", "over-delivery", "refunded", "odd-status", "empty"],
)  # fmt: skip
def test_it_tolerates_status_field_variants(fields: object, expected: OrderStatus) -> None:
    with answering(fields).client() as client:
        assert client.status("1") == expected


def test_it_raises_rejected_for_an_unknown_single_order() -> None:
    with (
        pytest.raises(Rejected) as caught,
        answering({"error": "Incorrect order ID"}).client() as c,
    ):
        c.status("999")
    assert (caught.value.message, caught.value.reason) == ("Incorrect order ID", BAD_ID.reason)


def test_it_asks_statuses_in_chunks_of_100() -> None:
    ids = [str(n) for n in range(1, 251)]

    def answer(request: httpx.Request) -> httpx.Response:
        asked = dict(httpx.QueryParams(request.content.decode()))["orders"].split(",")
        return httpx.Response(200, json={i: {"status": "Completed", "remains": 0} for i in asked})

    provider = FakeProvider(answer)
    with provider.client() as client:
        statuses = client.statuses(ids)
    assert [len(form["orders"].split(",")) for form in provider.forms()] == [100, 100, 50]
    assert [form["action"] for form in provider.forms()] == ["status"] * 3
    assert statuses == {
        i: OrderStatus(OrderState.COMPLETED, "Completed", None, None, 0, None) for i in ids
    }


def test_it_reads_the_seed_multi_status_answer_with_bare_string_errors() -> None:
    provider = answering(
        {
            "12": {"order": "12", "status": "processing", "charge": "1.2600", "start_count": "0",
                   "remains": "0"},
            "2": "Incorrect order ID",
            "13": {"order": "13", "status": "pending", "charge": "0.6300", "start_count": "0",
                   "remains": "0"},
            "10": {"error": "Incorrect order ID"},
        }
    )  # fmt: skip
    with provider.client() as client:
        statuses = client.statuses(["12", "2", 13, "10", "14", "12"])  # type: ignore[list-item]
    assert provider.forms()[0]["orders"] == "12,2,13,10,14"
    assert statuses == {
        "12": OrderStatus(OrderState.IN_PROGRESS, "processing", Decimal("1.2600"), 0, 0, None),
        "2": BAD_ID,
        "13": OrderStatus(OrderState.PENDING, "pending", Decimal("0.6300"), 0, 0, None),
        "10": BAD_ID,
        "14": MISSING,
    }


def test_it_accepts_a_flat_answer_when_one_status_was_asked() -> None:
    provider = answering({"order": "32", "status": "Canceled", "charge": "0", "remains": "100"})
    with provider.client() as client:
        assert client.statuses(["32"]) == {
            "32": OrderStatus(OrderState.CANCELED, "Canceled", Decimal("0"), None, 100, None)
        }


def test_it_raises_unknown_outcome_on_a_flat_answer_for_several_ids() -> None:
    with pytest.raises(UnknownOutcome) as caught, answering({"status": "Pending"}).client() as c:
        c.statuses(["1", "2"])
    assert caught.value.message == (
        "status: unexpected answer (the answer mentions none of the ids asked)"
    )


def test_it_asks_nothing_for_no_ids() -> None:
    provider = answering({})
    with provider.client() as client:
        assert client.statuses([]) == {}
        assert client.cancel([]) == {}
    assert provider.requests == []


def test_it_returns_a_refill_id() -> None:
    for payload in ({"refill": "1"}, {"refill": 1}, {"status": "success", "refill": 1}):
        with answering(payload).client() as client:
            assert client.refill("5") == "1"


def test_it_raises_rejected_for_a_nested_single_refill_error() -> None:
    payload = {"refill": {"error": "Refill is not available for this order"}}
    with pytest.raises(Rejected) as caught, answering(payload).client() as client:
        client.refill("5")
    assert caught.value.reason == RejectReason.REFILL_UNAVAILABLE


def test_it_reads_multi_refill_answers() -> None:
    provider = answering(
        [
            {"order": 1, "refill": 1},
            {"order": "2", "refill": "r-77"},
            {"order": 3, "refill": {"error": "Incorrect order ID"}},
            {"order": 4, "refill": "Refill is not available for this order"},
            {"order": 5, "error": "Incorrect order ID"},
            {"order": 99, "refill": 5},
        ]
    )
    with provider.client() as client:
        refills = client.refills(["1", "2", "3", "4", "5", "6"])
    assert provider.forms() == [{"key": KEY, "action": "refill", "orders": "1,2,3,4,5,6"}]
    assert refills == {
        "1": "1",
        "2": "r-77",
        "3": BAD_ID,
        "4": ItemError("Refill is not available for this order", RejectReason.REFILL_UNAVAILABLE),
        "5": BAD_ID,
        "6": MISSING,
    }


@pytest.mark.parametrize(
    ("raw_status", "outcome"),
    [
        ("Completed", RefillOutcome.COMPLETED),
        ("Pending", RefillOutcome.PENDING),
        ("Awaiting", RefillOutcome.PENDING),
        ("In progress", RefillOutcome.IN_PROGRESS),
        ("Processing", RefillOutcome.IN_PROGRESS),
        ("Rejected", RefillOutcome.REJECTED),
        ("Error", RefillOutcome.REJECTED),
        ("Queued somewhere", RefillOutcome.UNKNOWN),
    ],
)
def test_it_maps_refill_statuses(raw_status: str, outcome: RefillOutcome) -> None:
    provider = answering({"status": raw_status})
    with provider.client() as client:
        assert client.refill_status("7") == RefillState(status=outcome, raw_status=raw_status)
    assert provider.forms() == [{"key": KEY, "action": "refill_status", "refill": "7"}]


def test_it_reads_multi_refill_status_answers() -> None:
    provider = answering(
        [
            {"refill": 1, "status": "Completed"},
            {"refill": "2", "status": "in_progress"},
            {"refill": 3, "status": {"error": "Refill not found"}},
            {"refill": 4, "status": "Refill not found"},
        ]
    )
    with provider.client() as client:
        states = client.refill_statuses(["1", "2", "3", "4"])
    assert provider.forms() == [{"key": KEY, "action": "refill_status", "refills": "1,2,3,4"}]
    not_found = ItemError("Refill not found", RejectReason.BAD_ORDER_ID)
    assert states == {
        "1": RefillState(RefillOutcome.COMPLETED, "Completed"),
        "2": RefillState(RefillOutcome.IN_PROGRESS, "in_progress"),
        "3": not_found,
        "4": not_found,
    }


def test_it_reads_refill_statuses_keyed_by_id() -> None:
    with answering({"1": {"status": "Pending"}, "2": "Completed"}).client() as client:
        assert client.refill_statuses(["1", "2"]) == {
            "1": RefillState(RefillOutcome.PENDING, "Pending"),
            "2": RefillState(RefillOutcome.COMPLETED, "Completed"),
        }


def test_it_reads_cancel_answers() -> None:
    provider = answering(
        [
            {"order": 1, "cancel": 1},
            {"order": 2, "cancel": "true"},
            {"order": 3, "cancel": 0},
            {"order": 4, "cancel": {"error": "Order can't be canceled"}},
            {"order": 5, "cancel": "Incorrect order ID"},
        ]
    )
    with provider.client() as client:
        answers = client.cancel(["1", "2", "3", "4", "5"])
    assert provider.forms() == [{"key": KEY, "action": "cancel", "orders": "1,2,3,4,5"}]
    assert answers == {
        "1": True,
        "2": True,
        "3": False,
        "4": ItemError("Order can't be canceled", RejectReason.CANNOT_CANCEL),
        "5": BAD_ID,
    }


def test_it_accepts_a_flat_cancel_answer_for_one_id() -> None:
    with answering({"cancel": 1}).client() as client:
        assert client.cancel(["8"]) == {"8": True}


def test_it_parses_the_balance() -> None:
    for payload, expected in [
        ({"balance": "100.84292", "currency": "USD"}, Balance(Decimal("100.84292"), "USD")),
        (
            {"status": "success", "balance": 0.03, "currency": "rub"},
            Balance(Decimal("0.03"), "RUB"),
        ),
        ({"balance": 12}, Balance(Decimal("12"), "")),
    ]:
        with answering(payload).client() as client:
            assert client.balance() == expected


def test_it_raises_unknown_outcome_on_an_unusable_balance() -> None:
    with pytest.raises(UnknownOutcome) as caught, answering({"balance": "lots"}).client() as c:
        c.balance()
    assert caught.value.message == (
        "balance: unexpected answer (the balance answer has no usable balance)"
    )
