"""Provider-side validation of ``add``, per service type, with the canonical error sentences."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from panel.smmapi.protocol import (
    LIST_FIELDS,
    SUBSCRIPTION_DELAYS,
    TYPE_SPECS,
    Error,
    ServiceType,
    quantity_too_large,
    quantity_too_small,
    split_lines,
)

from .catalogue import SimService
from .money import charge_of


class ApiError(Exception):
    """An ``{"error": sentence}`` answer."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


# A URL (scheme optional: "t.me/channel" is common) or a bare handle ("@user", "user.name").
_URL = re.compile(r"^(https?://)?([a-z0-9-]+\.)+[a-z]{2,}(:\d+)?(/\S*)?$", re.IGNORECASE)
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.]{1,64}$")
_INT = re.compile(r"^[+-]?\d{1,12}$")


@dataclass
class AddRequest:
    """A validated ``add``: what to store and what to charge."""

    link: str  # the username for Subscriptions
    quantity: int  # units to deliver in total (posts for Subscriptions, 1 for Package)
    charge: Decimal
    runs: int | None = None
    interval: int | None = None
    fields: dict[str, str] = field(default_factory=dict)


def parse_int(raw: str | None) -> int | None:
    if raw is None or not _INT.match(raw.strip()):
        return None
    return int(raw.strip())


def valid_link(link: str) -> bool:
    return len(link) <= 2048 and bool(_URL.match(link) or _HANDLE.match(link))


def parse_add(service: SimService, params: Mapping[str, str]) -> AddRequest:
    """Validate the type-specific fields of an ``add`` against ``service``; raise ApiError."""
    spec = TYPE_SPECS[service.type]
    values = {name: params.get(name, "").strip() for name in (*spec.fields, *spec.optional)}
    if service.type is ServiceType.SUBSCRIPTIONS:
        return _parse_subscription(service, values)

    link = values["link"]
    if not valid_link(link):
        raise ApiError(Error.INCORRECT_LINK)

    lines: dict[str, list[str]] = {}
    for name in spec.fields:
        if name in LIST_FIELDS:
            lines[name] = split_lines(params.get(name, ""))
            if not lines[name] and name != spec.quantity_from:
                raise ApiError(Error.INCORRECT_REQUEST)
        elif name not in {"link", "quantity"} and not values[name]:
            raise ApiError(Error.INCORRECT_REQUEST)

    if service.type is ServiceType.PACKAGE:
        quantity = 1
    elif "quantity" in spec.fields:
        quantity = _quantity(params.get("quantity"), service)
    else:
        # Quantity is the number of lines (comments, usernames): an empty list is too small.
        counted = spec.quantity_from or "comments"
        quantity = len(lines[counted])
        _check_bounds(quantity, service)

    if service.type is ServiceType.POLL:
        answer = parse_int(values["answer_number"])
        if answer is None or answer < 1:
            raise ApiError(Error.INCORRECT_REQUEST)

    runs, interval = _dripfeed(service, values)
    units = quantity * (runs or 1)
    # Package-like types are priced flat; the rest per 1000 units (x runs for drip-feed).
    charge = charge_of(service.rate if spec.flat_price else service.rate * units / 1000)
    extra = {name: values[name] for name in spec.fields if name not in {"link", "quantity"}}
    return AddRequest(
        link=link, quantity=units, charge=charge, runs=runs, interval=interval, fields=extra
    )


def _quantity(raw: str | None, service: SimService) -> int:
    if raw is None or not raw.strip():
        raise ApiError(quantity_too_small(service.min))
    quantity = parse_int(raw)
    if quantity is None:
        raise ApiError(Error.INCORRECT_REQUEST)
    _check_bounds(quantity, service)
    return quantity


def _check_bounds(quantity: int, service: SimService) -> None:
    if quantity < max(service.min, 1):
        raise ApiError(quantity_too_small(service.min))
    if quantity > service.max:
        raise ApiError(quantity_too_large(service.max))


def _dripfeed(service: SimService, values: Mapping[str, str]) -> tuple[int | None, int | None]:
    raw_runs, raw_interval = values.get("runs", ""), values.get("interval", "")
    if not raw_runs and not raw_interval:
        return None, None
    if not service.dripfeed:
        raise ApiError(Error.INCORRECT_REQUEST)
    runs, interval = parse_int(raw_runs), parse_int(raw_interval)
    if runs is None or runs < 2 or interval is None or interval < 1:
        raise ApiError(Error.INCORRECT_REQUEST)
    return runs, interval


def _parse_subscription(service: SimService, values: Mapping[str, str]) -> AddRequest:
    username = values["username"]
    if not username or not valid_link(username):
        raise ApiError(Error.INCORRECT_REQUEST)
    low, high = parse_int(values["min"]), parse_int(values["max"])
    if low is None or high is None:
        raise ApiError(Error.INCORRECT_REQUEST)
    if low < service.min:
        raise ApiError(quantity_too_small(service.min))
    if high > service.max:
        raise ApiError(quantity_too_large(service.max))
    if low > high:
        raise ApiError(Error.INCORRECT_REQUEST)
    posts = _optional_int(values["posts"], minimum=1)
    _optional_int(values["old_posts"], minimum=0)
    delay = _optional_int(values["delay"], minimum=0)
    if delay is not None and delay not in SUBSCRIPTION_DELAYS:
        raise ApiError(Error.INCORRECT_REQUEST)
    if values["expiry"]:
        _parse_expiry(values["expiry"])
    # Charged up front for the worst case: max on every post (one post when posts is open).
    covered = posts or 1
    fields = {
        name: values[name]
        for name in ("min", "max", "posts", "old_posts", "delay", "expiry")
        if values[name]
    }
    return AddRequest(
        link=username,
        quantity=covered,
        charge=charge_of(service.rate * high * covered / 1000),
        fields=fields,
    )


def _optional_int(raw: str, *, minimum: int) -> int | None:
    if not raw:
        return None
    value = parse_int(raw)
    if value is None or value < minimum:
        raise ApiError(Error.INCORRECT_REQUEST)
    return value


def _parse_expiry(raw: str) -> dt.date:
    parts = raw.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ApiError(Error.INCORRECT_REQUEST)
    day, month, year = (int(part) for part in parts)
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ApiError(Error.INCORRECT_REQUEST) from exc
