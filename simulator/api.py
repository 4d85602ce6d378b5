"""The SMM API v2 actions: parse the request fields, call the state, shape the answer."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable, Mapping

from panel.smmapi.protocol import MAX_IDS_PER_REQUEST, Error

from .money import fmt_money
from .state import SimState
from .validation import ApiError, parse_int

ACTIONS = ("services", "add", "status", "refill", "refill_status", "cancel", "balance")

Params = Mapping[str, str]


def action_of(params: Params | None) -> str:
    """The action name used for counts and fault scopes ("unknown" for anything else)."""
    action = (params or {}).get("action", "").strip().lower()
    return action if action in ACTIONS else "unknown"


def dispatch(state: SimState, params: Params) -> object:
    """Answer one API request; every failure is an ``{"error": sentence}`` answer."""
    try:
        if not secrets.compare_digest(params.get("key", "").encode(), state.key.encode()):
            raise ApiError(Error.INVALID_KEY)
        handler = _HANDLERS.get(params.get("action", "").strip().lower())
        if handler is None:
            raise ApiError(Error.INCORRECT_ACTION)
        return handler(state, params)
    except ApiError as exc:
        return {"error": exc.sentence}


def _services(state: SimState, params: Params) -> object:
    return state.service_rows()


def _add(state: SimState, params: Params) -> object:
    order_id = state.place_order(params)
    prefix = state.knobs.order_id_prefix
    return {"order": f"{prefix}{order_id}" if prefix else order_id}


def _status(state: SimState, params: Params) -> object:
    if params.get("orders", "").strip():
        answer: dict[str, object] = {}
        for raw in _ids(params["orders"]):
            try:
                answer[raw] = state.order_status(raw)
            except ApiError as exc:
                if state.knobs.reject_batch_on_bad_id:
                    raise
                answer[raw] = {"error": exc.sentence}
        return answer
    return state.order_status(params.get("order", ""))


def _refill(state: SimState, params: Params) -> object:
    if params.get("orders", "").strip():
        answer = []
        for raw in _ids(params["orders"]):
            try:
                result: object = state.create_refill(raw)
            except ApiError as exc:
                result = {"error": exc.sentence}
            answer.append({"order": _echo_id(raw), "refill": result})
        return answer
    return {"refill": str(state.create_refill(params.get("order", "")))}


def _refill_status(state: SimState, params: Params) -> object:
    if params.get("refills", "").strip():
        answer = []
        for raw in _ids(params["refills"]):
            try:
                result: object = state.refill_status(raw)
            except ApiError as exc:
                if state.knobs.reject_batch_on_bad_id:
                    raise
                result = {"error": exc.sentence}
            answer.append({"refill": _echo_id(raw), "status": result})
        return answer
    return {"status": state.refill_status(params.get("refill", ""))}


def _cancel(state: SimState, params: Params) -> object:
    if params.get("orders", "").strip():
        answer = []
        for raw in _ids(params["orders"]):
            try:
                state.cancel_order(raw)
                result: object = 1
            except ApiError as exc:
                result = {"error": exc.sentence}
            answer.append({"order": _echo_id(raw), "cancel": result})
        return answer
    state.cancel_order(params.get("order", ""))
    return {"cancel": "1"}


def _balance(state: SimState, params: Params) -> object:
    return {"balance": fmt_money(state.balance), "currency": "USD"}


_HANDLERS: dict[str, Callable[[SimState, Params], object]] = {
    "services": _services,
    "add": _add,
    "status": _status,
    "refill": _refill,
    "refill_status": _refill_status,
    "cancel": _cancel,
    "balance": _balance,
}


def _ids(raw: str) -> list[str]:
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_IDS_PER_REQUEST:
        raise ApiError(Error.INCORRECT_REQUEST)
    return ids


def _echo_id(raw: str) -> int | str:
    parsed = parse_int(raw)
    return parsed if parsed is not None else raw


# --- answer spoilers for the odd_status and int_numbers faults -----------------------------

_ODD_STATUSES: dict[str, tuple[str, ...]] = {
    "Pending": ("pending",),
    "In progress": ("in_progress", "inprogress", "In Progress", "processing"),
    "Processing": ("processing",),
    "Completed": ("completed",),
    "Partial": ("partial",),
    "Canceled": ("Cancelled", "canceled", "cancelled"),
    "Active": ("active",),
    "Paused": ("paused",),
    "Expired": ("expired",),
    "Rejected": ("rejected",),
}
_NUMERIC_KEYS = frozenset(
    {"charge", "start_count", "remains", "balance", "rate", "min", "max", "service", "order"}
    | {"refill", "posts", "cancel"}
)
_INT_TEXT = re.compile(r"^-?\d+$")
_DECIMAL_TEXT = re.compile(r"^-?\d+\.\d+$")


def odd_statuses(answer: object, rng: random.Random) -> object:
    """Respell every ``status`` the way sloppy providers do."""
    if isinstance(answer, dict):
        return {
            key: rng.choice(_ODD_STATUSES.get(value, (value,)))
            if key == "status" and isinstance(value, str)
            else odd_statuses(value, rng)
            for key, value in answer.items()
        }
    if isinstance(answer, list):
        return [odd_statuses(item, rng) for item in answer]
    return answer


def int_numbers(answer: object) -> object:
    """Turn numeric strings into JSON numbers (ints, or floats for money)."""
    if isinstance(answer, dict):
        return {
            key: _number(value) if key in _NUMERIC_KEYS else int_numbers(value)
            for key, value in answer.items()
        }
    if isinstance(answer, list):
        return [int_numbers(item) for item in answer]
    return answer


def _number(value: object) -> object:
    if not isinstance(value, str):
        return int_numbers(value)
    if _INT_TEXT.match(value):
        return int(value)
    if _DECIMAL_TEXT.match(value):
        # A float is exactly the sloppiness this fault simulates.
        return float(value)
    return value
