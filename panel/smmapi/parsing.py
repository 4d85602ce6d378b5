"""Tolerant conversion of decoded provider JSON into the typed answers of ``types``.

Providers disagree on almost everything: numbers come as strings, ints or floats, booleans as
``true``/``1``/``"yes"``, ids as strings or ints. The JSON is decoded with ``parse_float=Decimal``
so money never passes through a float. Functions here are pure; an answer whose shape we do not
understand raises ``ShapeError``, which the client turns into ``UnknownOutcome``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from panel.smmapi.errors import MAX_MESSAGE_CHARS, RejectReason
from panel.smmapi.protocol import ServiceType
from panel.smmapi.types import (
    Balance,
    ItemError,
    OrderState,
    OrderStatus,
    RefillOutcome,
    RefillState,
    ServiceInfo,
)

logger = logging.getLogger("panel.smmapi")

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off", "", "null", "none"})


class ShapeError(ValueError):
    """The provider's answer does not have a shape we understand."""


# What our columns hold (orders.models.Order, panel.money.MoneyField). A number outside is not
# clamped into range (a wrong number would be settled on): it becomes None and a flag.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
# MoneyField: 18 digits, 5 of them decimals.
MAX_MONEY = Decimal(10) ** 13
MAX_STATUS_CHARS = 64  # Order.upstream_status
MAX_CURRENCY_CHARS = 8
# An upstream id is returned whole up to this (the caller decides what a too long one means);
# beyond it, it is no id.
MAX_ID_CHARS = 1000
# Digits a provider's number may have before it is not a number at all: int() refuses more than
# 4300, and a Decimal like 1E+999999999 would take the process's memory to become an int.
_MAX_NUMBER_CHARS = 60
_MAX_EXPONENT = 40
# A NUL or a lone surrogate cannot be stored in PostgreSQL (nor even encoded).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# --- scalars ---------------------------------------------------------------------------------


def to_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a string, int, Decimal or float; None if it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest string that round-trips: 0.1 stays 0.1, not 0.1000000000000000055.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_CHARS or not text.isascii():
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT:
        # Zero's adjusted() is its exponent: 0E-50 is still zero.
        return Decimal(0) if number.is_zero() else None
    return number


def to_int(value: object) -> int | None:
    """An int from ``12``, ``"12"``, ``"12.0"``, ``12.0``; None for "", null, "Unknown", 12.5."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        # isascii: "²" and "١٢" pass isdigit() but are not numbers a provider means.
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_NUMBER_CHARS:
            return int(text)
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_bool(value: object) -> bool:
    """True for true, 1, "1", "yes", "true"...; anything else (missing, odd spellings) is False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def to_id(value: object) -> str | None:
    """An id as a string (``23501`` and ``"23501"`` are the same id); None if missing."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_ID_CHARS or _UNSTORABLE.search(text):
            return None
        return text
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= MAX_ID_CHARS else None
    if isinstance(value, Decimal | float):
        number = to_decimal(value)
        if number is None:
            return None
        return str(int(number)) if number == number.to_integral_value() else str(number)
    return None


def to_text(value: object) -> str:
    """Text to keep or show; a NUL or lone surrogate becomes U+FFFD (storable, visible)."""
    if value is None or isinstance(value, dict | list):
        return ""
    return _UNSTORABLE.sub("\ufffd", str(value)).strip()


def _cap(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _held_int(name: str, value: object, flags: list[str], *, minimum: int = INT_MIN) -> int | None:
    """``to_int`` within our integer columns; outside them None, and a flag says why."""
    number = to_int(value)
    if number is None or minimum <= number <= INT_MAX:
        return number
    flags.append(f"{name} {_cap(str(number), 40)} does not fit ({minimum}..{INT_MAX}).")
    return None


def _held_money(name: str, value: object, flags: list[str]) -> Decimal | None:
    """``to_decimal`` within MoneyField's range (decimals beyond its 5 places are rounded when
    stored, as every amount is); outside it None, and a flag says why."""
    number = to_decimal(value)
    if number is None or abs(number) < MAX_MONEY:
        return number
    flags.append(f"{name} {_cap(str(number), 40)} does not fit (below {MAX_MONEY}).")
    return None


# --- services --------------------------------------------------------------------------------


class _BadRow(ValueError):
    pass


def parse_services(payload: object) -> list[ServiceInfo]:
    """The catalogue. A malformed row is skipped and logged; it never fails the whole list."""
    rows: Sequence[object]
    if isinstance(payload, list):
        rows = payload
    elif isinstance(payload, dict) and isinstance(payload.get("services"), list):
        rows = payload["services"]
    elif isinstance(payload, dict) and isinstance(payload.get("data"), list):
        rows = payload["data"]
    elif (
        isinstance(payload, dict) and payload and all(isinstance(v, dict) for v in payload.values())
    ):
        # Some panels key the catalogue by service id.
        rows = [{"service": key, **value} for key, value in payload.items()]
    else:
        raise ShapeError("the services answer is not a list")

    services: list[ServiceInfo] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            service = _parse_service(row)
        except _BadRow as exc:
            logger.warning("Skipping service row #%d: %s: %s", index, exc, str(row)[:300])
            continue
        if service.service_id in seen:
            logger.warning("Skipping service row #%d: duplicate id %s", index, service.service_id)
            continue
        seen.add(service.service_id)
        services.append(service)
    return services


def _parse_service(row: object) -> ServiceInfo:
    if not isinstance(row, dict):
        raise _BadRow("not an object")
    service_id = to_id(row.get("service", row.get("id", row.get("service_id"))))
    if service_id is None:
        raise _BadRow("no service id")
    name = to_text(row.get("name"))
    if not name:
        raise _BadRow("no name")
    service_type = ServiceType.parse(row.get("type"))
    if service_type is None:
        raise _BadRow("unknown type")
    rate = to_decimal(row.get("rate"))
    if rate is None or rate < 0:
        raise _BadRow("unusable rate")
    minimum = to_int(row.get("min"))
    maximum = to_int(row.get("max"))
    if minimum is None or maximum is None or minimum < 0 or maximum < minimum:
        raise _BadRow("unusable min/max")
    return ServiceInfo(
        service_id=service_id,
        name=name,
        type=service_type,
        category=to_text(row.get("category")),
        rate=rate,
        min=minimum,
        max=maximum,
        refill=to_bool(row.get("refill")),
        cancel=to_bool(row.get("cancel")),
        dripfeed=to_bool(row.get("dripfeed")),
        description=to_text(row.get("desc", row.get("description"))),
    )


# --- single answers --------------------------------------------------------------------------


def parse_order_id(payload: object) -> str:
    """``add``: ``{"order": 23501}`` or ``{"status": "success", "order": 32}``.

    The id comes back whole (stripped), however long, up to ``MAX_ID_CHARS``: one longer than
    our column is the caller's to hold for review, never cut into another order's id.
    """
    order_id = to_id(payload.get("order")) if isinstance(payload, dict) else None
    if order_id is None:
        raise ShapeError("the add answer has no order id")
    return order_id


def parse_order_status(payload: object, order_id: str) -> OrderStatus | ItemError:
    """``status`` for one order: the flat object, or (tolerated) the keyed multi shape."""
    if isinstance(payload, dict) and order_id in payload and "status" not in payload:
        payload = payload[order_id]
    if not isinstance(payload, dict):
        raise ShapeError("the status answer is not an object")
    return order_item(payload)


def parse_refill_id(payload: object) -> str | ItemError:
    """``refill`` for one order: ``{"refill": "1"}``."""
    if not isinstance(payload, dict) or "refill" not in payload:
        raise ShapeError("the refill answer has no refill id")
    return refill_item(payload["refill"])


def parse_refill_state(payload: object) -> RefillState | ItemError:
    """``refill_status`` for one refill: ``{"status": "Completed"}``."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise ShapeError("the refill_status answer has no status")
    return refill_state_item(payload["status"])


def parse_balance(payload: object) -> Balance:
    amount = to_decimal(payload.get("balance")) if isinstance(payload, dict) else None
    if amount is None or not isinstance(payload, dict) or abs(amount) >= MAX_MONEY:
        raise ShapeError("the balance answer has no usable balance")
    currency = to_text(payload.get("currency")).upper()
    return Balance(amount=amount, currency=currency if len(currency) <= MAX_CURRENCY_CHARS else "")


# --- items of multi-id answers ---------------------------------------------------------------


def item_error(value: object) -> ItemError | None:
    """The error of ``{"error": "..."}``; None if the value is not an error object."""
    if not isinstance(value, dict) or not value.get("error"):
        return None
    error = value["error"]
    if isinstance(error, dict):
        error = error.get("message", error.get("error", error))
    elif not isinstance(error, str):
        error = value.get("message", error)
    return _sentence_error(to_text(error))


def _sentence_error(text: str) -> ItemError:
    # Classified on the whole sentence, kept capped (it ends up in last_error and the admin).
    text = to_text(text)
    return ItemError(message=_cap(text), reason=RejectReason.from_message(text))


def _unexpected(value: object) -> ItemError:
    return ItemError(
        message=f"Unexpected answer: {_cap(to_text(value), 100)}", reason=RejectReason.UNKNOWN
    )


def order_item(value: object) -> OrderStatus | ItemError:
    """One order of a status answer: an object, an error object, or a bare error sentence."""
    error = item_error(value)
    if error is not None:
        return error
    if isinstance(value, str):
        return _sentence_error(value.strip())
    if not isinstance(value, dict):
        return _unexpected(value)
    raw_status = to_text(value.get("status"))
    flags: list[str] = []
    currency = to_text(value.get("currency")).upper() or None
    if currency is not None and len(currency) > MAX_CURRENCY_CHARS:
        flags.append(f"currency {_cap(currency, 40)!r} is not a currency code.")
        currency = None
    return OrderStatus(
        # The status is read from the whole text; what is kept fits Order.upstream_status.
        status=OrderState.parse(raw_status),
        raw_status=raw_status[:MAX_STATUS_CHARS],
        charge=_held_money("charge", value.get("charge"), flags),
        start_count=_held_int("start_count", value.get("start_count"), flags),
        remains=_held_int("remains", value.get("remains"), flags),
        currency=currency,
        posts=_held_int("posts", value.get("posts"), flags, minimum=0),
        flags=tuple(flags),
    )


def refill_item(value: object) -> str | ItemError:
    """One order of a refill answer: a refill id, an error object, or a bare error sentence."""
    error = item_error(value)
    if error is not None:
        return error
    if isinstance(value, str) and (not value.strip() or any(ch.isspace() for ch in value.strip())):
        # Ids have no spaces; "Refill is not available" does.
        return _sentence_error(value.strip())
    refill_id = to_id(value)
    return refill_id if refill_id is not None else _unexpected(value)


def refill_state_item(value: object) -> RefillState | ItemError:
    """One refill of a refill_status answer: a status, an error object, or an error sentence."""
    error = item_error(value)
    if error is not None:
        return error
    if isinstance(value, dict):
        value = value.get("status")
    if not isinstance(value, str):
        return _unexpected(value)
    raw_status = to_text(value)
    outcome = RefillOutcome.parse(raw_status)
    if outcome is RefillOutcome.UNKNOWN and RejectReason.from_message(raw_status) not in (
        RejectReason.UNKNOWN,
        RejectReason.REFILL_UNAVAILABLE,
    ):
        return _sentence_error(raw_status)
    return RefillState(status=outcome, raw_status=raw_status[:MAX_STATUS_CHARS])


def cancel_item(value: object) -> bool | ItemError:
    """One order of a cancel answer: ``1``/``true`` (accepted), an error, or an error sentence."""
    error = item_error(value)
    if error is not None:
        return error
    if isinstance(value, str) and value.strip().lower() not in _TRUE | _FALSE:
        return _sentence_error(value.strip())
    if isinstance(value, bool | int | Decimal | str):
        return to_bool(value)
    return _unexpected(value)


# --- multi-id answers ------------------------------------------------------------------------

MISSING = ItemError(
    message="The provider's answer did not mention this id.", reason=RejectReason.UNKNOWN
)


def pick_items(
    payload: object, ids: Sequence[str], *, id_field: str, value_field: str | None
) -> dict[str, object]:
    """Find each asked id's raw value in a multi-id answer; ids the answer skips are left out.

    Shapes understood: a list of ``{id_field: id, value_field: value}`` (refill, refill_status,
    cancel), an object keyed by id (status), and the flat single-item answer when one id was
    asked. ``value_field=None`` means the whole object is the value (status).
    """
    found: dict[str, object] = {}
    asked = set(ids)
    if isinstance(payload, list):
        for element in payload:
            if not isinstance(element, dict):
                continue
            item_id = to_id(element.get(id_field))
            if item_id in asked and item_id is not None:
                found[item_id] = _value_of(element, value_field)
        if payload and not found:
            raise ShapeError("the answer mentions none of the ids asked")
        return found
    if not isinstance(payload, dict):
        raise ShapeError("the answer is neither a list nor an object")
    keyed = {item_id: payload[item_id] for item_id in ids if item_id in payload}
    if keyed:
        for item_id, value in keyed.items():
            found[item_id] = value if value_field is None else _value_of(value, value_field)
        return found
    flat_marker = "status" if value_field is None else value_field
    if len(ids) == 1 and flat_marker in payload:
        found[ids[0]] = _value_of(payload, value_field)
        return found
    raise ShapeError("the answer mentions none of the ids asked")


def _value_of(element: object, value_field: str | None) -> object:
    if value_field is None or not isinstance(element, dict):
        return element
    if value_field in element:
        return element[value_field]
    # {"order": 3, "error": "Incorrect order ID"}: the error sits beside the id.
    return element
