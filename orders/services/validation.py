"""Per-type validation and pricing of an order's SMM API v2 ``add`` fields.

Pure functions: nothing here writes. ``order_place`` and ``order_quote`` share them, so the price
on the web form and the price charged can never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from accounts.models import User
from catalog.models import Service, UserRate
from catalog.pricing import user_rate, user_rate_with
from orders.errors import PlacementError
from panel.inbound import parse_count, text_problem
from panel.money import charge_amount
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

THOUSAND = Decimal(1000)
MAX_LINK_LENGTH = 2000
MAX_TEXT_LENGTH = 255
MAX_LIST_LENGTH = 20000
MAX_LINE_LENGTH = 1000
MAX_RUNS = 1000
MAX_INTERVAL_MINUTES = 60 * 24 * 30
MAX_POSTS = 100000
_USERNAME = re.compile(r"^@?[A-Za-z0-9._-]{1,64}$")
_url_validator = URLValidator(schemes=["http", "https"])

# Fields that name a user: either an http(s) URL or a bare username.
_USERNAME_FIELDS = frozenset({"username"})
_URL_FIELDS = frozenset({"link", "media"})


@dataclass
class Placement:
    """A validated, priced order request."""

    service: Service
    type: ServiceType
    link: str
    quantity: int
    runs: int | None
    interval: int | None
    # The fields forwarded upstream with ``add`` (besides ``service``), as strings.
    upstream_fields: dict[str, str] = field(default_factory=dict)
    rate: Decimal = Decimal(0)
    charge: Decimal = Decimal(0)
    # Subscriptions without a posts limit are charged per delivered post.
    unlimited_posts: bool = False


def _fail(
    message: str,
    api_error: str = Error.INCORRECT_REQUEST,
    field: str | None = None,
    **params: str | int,
) -> NoReturn:
    # ``message`` is an English template with ``%(field)s`` for the field's name and ``params``
    # for the rest; pages translate it (orders/views/errors.py).
    values = {"field": field, **params} if field is not None else params
    raise PlacementError(message, api_error=api_error, field=field, params=values)


# Why a short per-process memory of the catalogue: every order reads its service row and the
# caller's rate for it (a flood of API orders reads the same few rows thousands of times a
# minute), and reading them costs more CPU than the rest of the placement. They change only on a
# catalogue sync or an admin edit, which reach new orders after at most
# ORDERS_SERVICE_CACHE_SECONDS. Only sellable services are remembered, so re-enabling one takes
# effect at once; forwarding re-reads the provider, so an order taken in that window for a
# just-disabled provider waits queued. Balances, keys and orders are never cached.
MAX_REMEMBERED = 4096
_services: dict[int, tuple[float, Service]] = {}
# (user id, service id) -> (the Service object the rate was computed for, discount, rate)
_rates: dict[tuple[int, int], tuple[Service, Decimal, Decimal]] = {}
# service id -> (the Service object, its custom rates by user id)
_custom: dict[int, tuple[Service, dict[int, Decimal]]] = {}
_lock = threading.Lock()


def find_service(service_id: object) -> Service:
    """The sellable service with this id (its provider loaded), else PlacementError."""
    try:
        pk = int(str(service_id).strip())
    except (TypeError, ValueError):
        pk = 0
    ttl = float(settings.ORDERS_SERVICE_CACHE_SECONDS)
    now = time.monotonic()
    remembered = _services.get(pk)
    if remembered is not None and now - remembered[0] < ttl:
        return remembered[1]
    # A primary-key lookup needs no ORDER BY (the model's default ordering would join the
    # category and sort), and checking the flags on the fetched row costs less CPU than
    # compiling them into the query. Pricing needs the provider (exchange rate), not the
    # category.
    service = next(iter(Service.objects.select_related("provider").filter(pk=pk).order_by()), None)
    if service is None or not (
        service.is_enabled and service.is_available and service.provider.is_enabled
    ):
        _services.pop(pk, None)
        raise PlacementError(
            "This service does not exist or is not available.",
            api_error=Error.INCORRECT_SERVICE,
            field="service",
        )
    if ttl > 0:
        with _lock:
            if len(_services) >= MAX_REMEMBERED:
                _services.clear()
            _services[pk] = (now, service)
    return service


def _user_rate(user: User, service: Service) -> Decimal:
    """``catalog.pricing.user_rate``, remembered as long as the service row it was priced from."""
    discount = Decimal(user.discount_percent or 0)
    key = (user.pk, service.pk)
    remembered = _rates.get(key)
    # Only while `service` is the remembered row: a rate lives no longer than what it was
    # priced from, and a re-read row (or a cache switched off) prices afresh.
    current = _services.get(service.pk)
    fresh = current is not None and current[1] is service
    if fresh and remembered is not None and remembered[0] is service and remembered[1] == discount:
        return remembered[2]
    if fresh and user.pk is not None:
        # One read of the service's custom rates serves every caller while the row is
        # remembered, instead of a query per caller (resellers arrive with many keys).
        custom = _custom_rates(service).get(user.pk)
        rate = user_rate_with(user=user, service=service, custom=custom)
    else:
        rate = Decimal(user_rate(user=user, service=service))
    if fresh and user.pk is not None:
        with _lock:
            if len(_rates) >= MAX_REMEMBERED:
                _rates.clear()
            _rates[key] = (service, discount, rate)
    return rate


def _custom_rates(service: Service) -> dict[int, Decimal]:
    """The custom rates of a remembered service row, by user id; read once per row."""
    remembered = _custom.get(service.pk)
    if remembered is not None and remembered[0] is service:
        return remembered[1]
    rates = dict(UserRate.objects.filter(service=service).values_list("user_id", "rate"))
    with _lock:
        if len(_custom) >= MAX_REMEMBERED:
            _custom.clear()
        _custom[service.pk] = (service, rates)
    return rates


def forget_catalogue() -> None:
    """Forget every remembered service and rate (tests; anything that must see an edit now)."""
    with _lock:
        _services.clear()
        _rates.clear()
        _custom.clear()


def _clean_text(name: str, raw: object) -> str:
    value = str(raw).strip()
    multiline = name in LIST_FIELDS
    api_error = Error.INCORRECT_LINK if name == "link" else Error.INCORRECT_REQUEST
    if multiline:
        cap = MAX_LIST_LENGTH
    else:
        cap = MAX_LINK_LENGTH if name in _URL_FIELDS else MAX_TEXT_LENGTH
    if len(value) > cap:
        _fail("“%(field)s” is too long (at most %(n)s characters).", api_error, name, n=cap)
    if text_problem(value, multiline=multiline):
        _fail("“%(field)s” contains control or invalid characters.", api_error, name)
    if not multiline:
        return value
    lines = split_lines(value)
    if any(len(line) > MAX_LINE_LENGTH for line in lines):
        _fail(
            "A line of “%(field)s” is too long (at most %(n)s characters).",
            field=name,
            n=MAX_LINE_LENGTH,
        )
    return "\n".join(lines)


def _is_url(value: str) -> bool:
    try:
        _url_validator(value)
    except ValidationError:
        return False
    return True


def _parse_int(name: str, value: str, *, minimum: int, maximum: int) -> int:
    """A whole number in ``minimum..maximum``, ASCII digits only (``panel.inbound``)."""
    number = parse_count(value)
    if number is None or not minimum <= number <= maximum:
        _fail(
            "“%(field)s” must be a whole number from %(minimum)s to %(maximum)s.",
            field=name,
            minimum=minimum,
            maximum=maximum,
        )
    return number


def _parse_bounded(service: Service, name: str, value: str) -> int:
    """A number of units: written as digits, then checked against the service's min and max."""
    number = parse_count(value)
    if number is None:
        _fail(
            "“%(field)s” must be a whole number from %(minimum)s to %(maximum)s.",
            field=name,
            minimum=service.min_quantity,
            maximum=service.max_quantity,
        )
    _check_quantity(service, number, name)
    return number


def _check_quantity(service: Service, quantity: int, name: str = "quantity") -> None:
    if quantity < service.min_quantity:
        _fail(
            "The quantity must be at least %(n)s.",
            quantity_too_small(service.min_quantity),
            name,
            n=service.min_quantity,
        )
    if quantity > service.max_quantity:
        _fail(
            "The quantity must be at most %(n)s.",
            quantity_too_large(service.max_quantity),
            name,
            n=service.max_quantity,
        )


def _parse_expiry(value: str) -> None:
    try:
        day = dt.datetime.strptime(value, "%d/%m/%Y").replace(tzinfo=dt.UTC).date()
    except ValueError:
        _fail("The expiry date must be written as day/month/year (d/m/Y).", field="expiry")
    if day < timezone.now().date():
        _fail("The expiry date is in the past.", field="expiry")


def validate(*, user: User, service: Service, fields: Mapping[str, object]) -> Placement:
    """Validate ``fields`` for the service's type and price them. Raises PlacementError."""
    service_type = ServiceType.parse(service.type)
    if service_type is None:
        _fail("This service cannot be ordered.", Error.INCORRECT_SERVICE, "service")
    spec = TYPE_SPECS[service_type]
    cleaned: dict[str, str] = {}
    for name in (*spec.fields, *spec.optional):
        raw = fields.get(name)
        if raw is None or str(raw).strip() == "":
            if name in spec.fields:
                if name == "link":
                    _fail("Enter the link.", Error.INCORRECT_LINK, "link")
                _fail("“%(field)s” is required for this service.", field=name)
            continue
        cleaned[name] = _clean_text(name, raw)

    for name, value in cleaned.items():
        if name in _URL_FIELDS and not _is_url(value):
            api_error = Error.INCORRECT_LINK if name == "link" else Error.INCORRECT_REQUEST
            _fail("“%(field)s” must be a full http(s) address.", api_error, name)
        if name in _USERNAME_FIELDS and not (_is_url(value) or _USERNAME.match(value)):
            _fail("Enter a username or a full http(s) profile address.", field=name)
        if name in LIST_FIELDS and not split_lines(value):
            _fail("“%(field)s” needs at least one line.", field=name)

    placement = Placement(
        service=service,
        type=service_type,
        link=cleaned.get("link", ""),
        quantity=0,
        runs=None,
        interval=None,
    )
    rate = _user_rate(user, service)
    placement.rate = rate

    if service_type is ServiceType.SUBSCRIPTIONS:
        _validate_subscription(placement, cleaned)
    else:
        _validate_quantity(placement, cleaned, fields)
        units = placement.quantity * (placement.runs or 1)
        if spec.flat_price:
            placement.charge = charge_amount(rate)
        else:
            placement.charge = charge_amount(rate * units / THOUSAND)
    if placement.charge <= 0 and not placement.unlimited_posts:
        _fail("This service cannot be ordered (no price).", Error.INCORRECT_SERVICE, "service")
    placement.upstream_fields = cleaned
    return placement


def _validate_quantity(
    placement: Placement, cleaned: dict[str, str], raw_fields: Mapping[str, object]
) -> None:
    service = placement.service
    spec = TYPE_SPECS[placement.type]
    if spec.quantity_from is not None:
        count = len(split_lines(cleaned[spec.quantity_from]))
        given = raw_fields.get("quantity")
        # Why: a reseller tool that sends both must not be charged for one number and
        # delivered another.
        if given not in (None, "") and parse_count(str(given)) != count:
            _fail(
                "The quantity must equal the number of lines in “%(lines)s” (%(n)s).",
                field="quantity",
                lines=spec.quantity_from,
                n=count,
            )
        _check_quantity(service, count, spec.quantity_from)
        placement.quantity = count
    elif "quantity" in spec.fields:
        placement.quantity = _parse_bounded(service, "quantity", cleaned["quantity"])
        # What goes upstream is the number charged for, in canonical digits.
        cleaned["quantity"] = str(placement.quantity)
    elif spec.quantity_from is None and spec.flat_price:
        # A package is one unit: a Partial refund is then all or nothing.
        placement.quantity = 1
    if placement.type is ServiceType.CUSTOM_COMMENTS_PACKAGE:
        placement.quantity = len(split_lines(cleaned["comments"]))
    if "answer_number" in cleaned:
        answer = _parse_int("answer_number", cleaned["answer_number"], minimum=1, maximum=1000)
        cleaned["answer_number"] = str(answer)

    runs, interval = cleaned.get("runs"), cleaned.get("interval")
    if runs is None and interval is None:
        return
    if not service.dripfeed:
        cleaned.pop("runs", None)
        cleaned.pop("interval", None)
        _fail("This service does not support drip-feed.", field="runs")
    if runs is None or interval is None:
        _fail(
            "Drip-feed needs both runs and interval.", field="runs" if runs is None else "interval"
        )
    placement.runs = _parse_int("runs", runs, minimum=1, maximum=MAX_RUNS)
    placement.interval = _parse_int("interval", interval, minimum=1, maximum=MAX_INTERVAL_MINUTES)
    cleaned["runs"], cleaned["interval"] = str(placement.runs), str(placement.interval)
    if placement.runs == 1:
        # One run is a plain order; forwarding it without drip-feed fields is equivalent.
        placement.runs = placement.interval = None
        cleaned.pop("runs")
        cleaned.pop("interval")


def _validate_subscription(placement: Placement, cleaned: dict[str, str]) -> None:
    service = placement.service
    low = _parse_bounded(service, "min", cleaned["min"])
    high = _parse_bounded(service, "max", cleaned["max"])
    cleaned["min"], cleaned["max"] = str(low), str(high)
    if low > high:
        _fail("“min” must not be greater than “max”.", field="min")
    if "old_posts" in cleaned:
        old_posts = _parse_int("old_posts", cleaned["old_posts"], minimum=0, maximum=MAX_POSTS)
        cleaned["old_posts"] = str(old_posts)
    if "delay" in cleaned:
        delay = parse_count(cleaned["delay"])
        if delay not in SUBSCRIPTION_DELAYS:
            allowed = ", ".join(str(d) for d in SUBSCRIPTION_DELAYS)
            _fail("“%(field)s” must be one of %(allowed)s minutes.", field="delay", allowed=allowed)
        cleaned["delay"] = str(delay)
    if "expiry" in cleaned:
        _parse_expiry(cleaned["expiry"])
    placement.link = cleaned["username"]
    if "posts" in cleaned:
        posts = _parse_int("posts", cleaned["posts"], minimum=1, maximum=MAX_POSTS)
        cleaned["posts"] = str(posts)
        # A subscription's units are posts (remains counts undelivered posts, as upstream).
        placement.quantity = posts
        # Charged up front for the most it can deliver; the undelivered part is refunded.
        placement.charge = charge_amount(placement.rate * posts * high / THOUSAND)
        return
    # Without a posts limit only a cancel stops the provider once the balance runs out: unlimited
    # subscriptions need a service whose provider supports cancel.
    if not service.allow_unlimited_posts or not service.cancel:
        _fail("Enter the number of posts for this subscription.", field="posts")
    placement.unlimited_posts = True
    placement.charge = Decimal(0)


def post_price(*, rate: Decimal, max_quantity: int) -> Decimal:
    """The most one post of a subscription can cost: ``max`` units at ``rate`` per 1000."""
    return charge_amount(rate * max_quantity / THOUSAND)
