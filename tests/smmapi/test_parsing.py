"""Loose recognition: rejection reasons, status spellings, scalar variants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from panel.smmapi import OrderState, Rejected, RejectReason
from panel.smmapi.parsing import to_bool, to_decimal, to_id, to_int
from panel.smmapi.protocol import Error, quantity_too_large, quantity_too_small
from tests.smmapi.fakes import answering


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (Error.INVALID_KEY, RejectReason.BAD_KEY),
        ("Invalid api key", RejectReason.BAD_KEY),
        ("Incorrect API key", RejectReason.BAD_KEY),
        ("error.invalid_api_key", RejectReason.BAD_KEY),
        ("Unauthorized", RejectReason.BAD_KEY),
        (Error.INCORRECT_SERVICE, RejectReason.BAD_SERVICE),
        ("Service not found", RejectReason.BAD_SERVICE),
        ("neworder.error.service_disabled", RejectReason.BAD_SERVICE),
        (Error.INCORRECT_LINK, RejectReason.BAD_LINK),
        ("Invalid URL", RejectReason.BAD_LINK),
        ("neworder.error.link", RejectReason.BAD_LINK),
        (quantity_too_small(100), RejectReason.QUANTITY_BOUNDS),
        (quantity_too_large(5000), RejectReason.QUANTITY_BOUNDS),
        ("neworder.error.min_quantity", RejectReason.QUANTITY_BOUNDS),
        (Error.NOT_ENOUGH_FUNDS, RejectReason.NOT_ENOUGH_FUNDS),
        ("neworder.error.not_enough_funds", RejectReason.NOT_ENOUGH_FUNDS),
        ("Insufficient balance", RejectReason.NOT_ENOUGH_FUNDS),
        ("Your balance is too low", RejectReason.NOT_ENOUGH_FUNDS),
        (Error.ACTIVE_ORDER, RejectReason.ACTIVE_ORDER),
        ("You already have an order in progress for this link", RejectReason.ACTIVE_ORDER),
        ("neworder.error.active_order", RejectReason.ACTIVE_ORDER),
        (Error.INCORRECT_ORDER, RejectReason.BAD_ORDER_ID),
        ("Order not found", RejectReason.BAD_ORDER_ID),
        (Error.REFILL_NOT_FOUND, RejectReason.BAD_ORDER_ID),
        ("Incorrect refill ID", RejectReason.BAD_ORDER_ID),
        (Error.REFILL_NOT_AVAILABLE, RejectReason.REFILL_UNAVAILABLE),
        ("Refill for order id 5 is not available yet", RejectReason.REFILL_UNAVAILABLE),
        ("This service does not support refill", RejectReason.REFILL_UNAVAILABLE),
        (Error.CANNOT_CANCEL, RejectReason.CANNOT_CANCEL),
        ("Cancellation is not allowed", RejectReason.CANNOT_CANCEL),
        (Error.INCORRECT_REQUEST, RejectReason.UNKNOWN),
        (Error.INCORRECT_ACTION, RejectReason.UNKNOWN),
        ("Something went wrong", RejectReason.UNKNOWN),
        ("SEO keywords are invalid", RejectReason.UNKNOWN),
    ],
)
def test_it_recognises_rejection_reasons_loosely(message: str, reason: RejectReason) -> None:
    with pytest.raises(Rejected) as caught, answering({"error": message}).client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert (caught.value.message, caught.value.reason) == (str(message), reason)


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("Pending", OrderState.PENDING),
        ("In progress", OrderState.IN_PROGRESS),
        ("In Progress", OrderState.IN_PROGRESS),
        ("in_progress", OrderState.IN_PROGRESS),
        ("inprogress", OrderState.IN_PROGRESS),
        ("Processing", OrderState.IN_PROGRESS),
        ("processing", OrderState.IN_PROGRESS),
        ("Completed", OrderState.COMPLETED),
        ("Partial", OrderState.PARTIAL),
        ("Canceled", OrderState.CANCELED),
        ("Cancelled", OrderState.CANCELED),
        ("Refunded", OrderState.CANCELED),
        ("Active", OrderState.ACTIVE),
        ("Paused", OrderState.PAUSED),
        ("Expired", OrderState.EXPIRED),
        ("Fail", OrderState.FAILED),
        ("Error", OrderState.FAILED),
        ("On hold", OrderState.UNKNOWN),
        ("", OrderState.UNKNOWN),
        (None, OrderState.UNKNOWN),
    ],
)
def test_it_maps_every_order_status_spelling(raw: object, state: OrderState) -> None:
    assert OrderState.parse(raw) is state


def test_it_converts_scalars_tolerantly() -> None:
    assert [to_decimal(v) for v in ["0.90", " 1.02 ", 3, 0.1, Decimal("2.5"), "", None, "NaN",
                                    True, "1,20", "Infinity"]] == [
        Decimal("0.90"), Decimal("1.02"), Decimal(3), Decimal("0.1"), Decimal("2.5"),
        None, None, None, None, None, None,
    ]  # fmt: skip
    assert [to_int(v) for v in ["157", "-3", 12, "12.0", 12.0, Decimal("7"), "", None,
                                "Unknown", 12.5, False]] == [
        157, -3, 12, 12, 12, 7, None, None, None, None, None,
    ]  # fmt: skip
    assert [to_bool(v) for v in [True, 1, "1", "yes", "true", "TRUE", Decimal(1),
                                 False, 0, "0", "no", "false", "", None, "maybe", 2]] == [
        True, True, True, True, True, True, True,
        False, False, False, False, False, False, False, False, False,
    ]  # fmt: skip
    assert [to_id(v) for v in [23501, "23501", " 7 ", Decimal("32"), "abc-1", "", None,
                               True]] == [
        "23501", "23501", "7", "32", "abc-1", None, None, None,
    ]  # fmt: skip
