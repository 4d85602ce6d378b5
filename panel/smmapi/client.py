"""``SMMClient``: the one place that talks HTTP to providers (SMM panel API v2).

Every call is one form POST (``key``, ``action``, fields). Nothing is retried here: ``add`` has no
idempotency key, so a second POST after an unclear first one could buy the same order twice.
Retrying is the caller's decision, made from the exception class (see ``errors``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from functools import partial
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlencode

import httpx

from panel.smmapi.errors import (
    BODY_HEAD_CHARS,
    NotDelivered,
    Rejected,
    RejectReason,
    UnknownOutcome,
    scrub,
)
from panel.smmapi.metrics import observe_call, provider_label
from panel.smmapi.parsing import (
    MISSING,
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
from panel.smmapi.protocol import MAX_IDS_PER_REQUEST
from panel.smmapi.transport import ProviderTransport
from panel.smmapi.types import Balance, ItemError, OrderStatus, RefillState, ServiceInfo

logger = logging.getLogger("panel.smmapi")

# Many providers sit behind a WAF that blocks library User-Agents.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "application/json, text/plain, */*",
    "Accept-Encoding": "gzip, deflate",
    "Content-Type": "application/x-www-form-urlencoded",
}
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0

# Actions that change nothing upstream. A 5xx carrying {"error": ...} is taken at its word for
# these (Rejected). For add/refill/cancel it is UnknownOutcome: the server may have crashed after
# acting, and a wrongly trusted rejection of ``add`` would let the caller buy the order twice.
_READ_ONLY = frozenset({"services", "status", "refill_status", "balance"})

# Transport errors raised before a single byte of the request could reach the provider.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,  # refused, DNS, TLS handshake
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.InvalidURL,
    httpx.ProxyError,
)

T = TypeVar("T")
_INVALID = object()


def _setting(name: str, default: float) -> float:
    # Read at construction time, not import time, so tests and override_settings apply; the client
    # also works outside Django (the simulator's tests).
    from django.conf import settings

    if not settings.configured:
        return default
    return float(getattr(settings, name, default))


def _private_hosts_allowed() -> bool:
    # Outside Django (tools, the simulator's own tests) there is no setting: local is the point.
    from django.conf import settings

    if not settings.configured:
        return True
    return bool(getattr(settings, "SMMAPI_ALLOW_PRIVATE_HOSTS", False))


class SMMClient:
    """A client for one provider's SMM API v2 endpoint; one pooled HTTP connection per instance.

    Methods return typed answers or raise ``NotDelivered``, ``Rejected`` or ``UnknownOutcome``.
    Multi-id methods send chunks of 100 ids (one POST each) and return one entry per asked id:
    the value, or an ``ItemError`` for that id. If a later chunk fails, the exception propagates
    and earlier chunks (for refills/cancel: possibly acted on) are not reported; the caller
    re-syncs statuses to learn the truth.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url
        self._key = key
        self._metrics_label = provider_label(url)
        if connect_timeout is None:
            connect_timeout = _setting("SMMAPI_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)
        if read_timeout is None:
            read_timeout = _setting("SMMAPI_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)
        if transport is None:
            transport = ProviderTransport(public_only=not _private_hosts_allowed())
        # Why the transport and not an httpx.Client around it: a client's URL merging, cookie
        # jar and redirect and auth hooks cost more CPU than the call itself, and none of them
        # apply (one URL, no cookies, redirects never followed).
        self._transport = transport
        self._target: httpx.URL | None = None
        self._timeout = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": read_timeout,
            "pool": connect_timeout,
        }
        self._closed = False

    def __repr__(self) -> str:
        return f"<SMMClient {scrub(self._url, self._key)!r}>"

    def __enter__(self) -> SMMClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._transport.close()

    # --- actions -----------------------------------------------------------------------------

    def services(self) -> list[ServiceInfo]:
        """The provider's catalogue; malformed rows are skipped and logged."""
        return self._call("services", {}, parse_services)

    def add(self, service_id: str, fields: Mapping[str, str | int]) -> str:
        """Place an order; returns the upstream order id. Never retried: see ``UnknownOutcome``."""
        reserved = {"key", "action", "service"} & set(fields)
        if reserved:
            raise ValueError(f"add() fields may not set {sorted(reserved)}")
        data = {"service": str(service_id), **{name: str(value) for name, value in fields.items()}}
        return self._call("add", data, parse_order_id)

    def status(self, order_id: str) -> OrderStatus:
        order_id = str(order_id).strip()
        answer = self._call(
            "status", {"order": order_id}, lambda p: parse_order_status(p, order_id)
        )
        return self._single("status", answer)

    def statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatus | ItemError]:
        return self._multi("status", "orders", order_ids, "order", None, order_item)

    def refill(self, order_id: str) -> str:
        """Ask for a refill of one order; returns the refill id."""
        answer = self._call("refill", {"order": str(order_id).strip()}, parse_refill_id)
        return self._single("refill", answer)

    def refills(self, order_ids: Sequence[str]) -> dict[str, str | ItemError]:
        return self._multi("refill", "orders", order_ids, "order", "refill", refill_item)

    def refill_status(self, refill_id: str) -> RefillState:
        answer = self._call("refill_status", {"refill": str(refill_id).strip()}, parse_refill_state)
        return self._single("refill_status", answer)

    def refill_statuses(self, refill_ids: Sequence[str]) -> dict[str, RefillState | ItemError]:
        return self._multi(
            "refill_status", "refills", refill_ids, "refill", "status", refill_state_item
        )

    def cancel(self, order_ids: Sequence[str]) -> dict[str, bool | ItemError]:
        """Ask to cancel orders: True means the provider accepted the request (not done yet)."""
        return self._multi("cancel", "orders", order_ids, "order", "cancel", cancel_item)

    def balance(self) -> Balance:
        return self._call("balance", {}, parse_balance)

    # --- plumbing ----------------------------------------------------------------------------

    def _single(self, action: str, answer: T | ItemError) -> T:
        # The single-id answer nested its error ({"refill": {"error": ...}}): a plain rejection.
        if isinstance(answer, ItemError):
            raise Rejected(answer.message, action=action, reason=answer.reason)
        return answer

    def _multi(
        self,
        action: str,
        ids_field: str,
        ids: Sequence[str],
        id_field: str,
        value_field: str | None,
        convert: Callable[[object], T | ItemError],
    ) -> dict[str, T | ItemError]:
        asked = list(dict.fromkeys(str(item_id).strip() for item_id in ids))
        result: dict[str, T | ItemError] = {}
        for chunk in _chunks(asked, MAX_IDS_PER_REQUEST):
            pick = partial(pick_items, ids=chunk, id_field=id_field, value_field=value_field)
            found = self._call(action, {ids_field: ",".join(chunk)}, pick)
            for item_id in chunk:
                result[item_id] = convert(found[item_id]) if item_id in found else MISSING
        return result

    def _call(self, action: str, fields: Mapping[str, str], parse: Callable[[object], T]) -> T:
        with observe_call(self._metrics_label, action):
            return self._call_unobserved(action, fields, parse)

    def _call_unobserved(
        self, action: str, fields: Mapping[str, str], parse: Callable[[object], T]
    ) -> T:
        response = self._post(action, fields)
        payload, body_head = self._decode(action, response)
        try:
            return parse(payload)
        except ShapeError as exc:
            raise UnknownOutcome(
                f"{action}: unexpected answer ({exc})",
                action=action,
                http_status=response.status_code,
                body_head=body_head,
            ) from None

    def _post(self, action: str, fields: Mapping[str, str]) -> httpx.Response:
        logger.debug("POST %s action=%s", scrub(self._url, self._key), action)
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        body = urlencode({"key": self._key, "action": action, **fields}).encode()
        # "from None" everywhere: httpx exceptions carry the request (and its body with the key);
        # we keep only their scrubbed text.
        try:
            if self._target is None:
                self._target = httpx.URL(self._url)
            request = httpx.Request(
                "POST",
                self._target,
                content=body,
                headers=_HEADERS,
                extensions={"timeout": self._timeout},
            )
            response = self._transport.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
            return response
        except _NOT_SENT as exc:
            raise NotDelivered(
                f"{action}: not delivered ({type(exc).__name__}: {self._scrub(str(exc))})",
                action=action,
            ) from None
        except httpx.HTTPError as exc:
            # Read timeout, reset or close after sending, write errors: it may have been acted on.
            raise UnknownOutcome(
                f"{action}: outcome unknown ({type(exc).__name__}: {self._scrub(str(exc))})",
                action=action,
            ) from None

    def _decode(self, action: str, response: httpx.Response) -> tuple[object, str]:
        code = response.status_code
        try:
            # Scrubbed before parsing: nothing derived from the answer (messages, logged rows,
            # body_head) can carry the key, even from a provider that echoes the request.
            text = self._scrub(response.text)
        except httpx.HTTPError as exc:  # broken content encoding
            raise UnknownOutcome(
                f"{action}: HTTP {code}, unreadable body ({type(exc).__name__})",
                action=action,
                http_status=code,
            ) from None
        body_head = text[:BODY_HEAD_CHARS]
        payload = _load_json(text)
        if payload is _INVALID:
            raise UnknownOutcome(
                f"{action}: HTTP {code}, the answer is not JSON",
                action=action,
                http_status=code,
                body_head=body_head,
            )
        error = item_error(payload)
        if error is not None:
            # An error beside an order id is contradictory; for add, assume the order exists.
            contradictory = action == "add" and isinstance(payload, dict) and "order" in payload
            trusted = 200 <= code < 500 or (code >= 500 and action in _READ_ONLY)
            if trusted and not contradictory:
                # Why 429 overrides the sentence: "Too Many Requests" is answered before the
                # request is processed (nothing was done), so it means "retry later" whatever the
                # body says; a 429 without a JSON error stays an unknown outcome (see below).
                reason = RejectReason.RATE_LIMITED if code == 429 else error.reason
                raise Rejected(error.message, action=action, reason=reason, http_status=code)
            raise UnknownOutcome(
                f"{action}: HTTP {code} with error {error.message!r}",
                action=action,
                http_status=code,
                body_head=body_head,
            )
        if not 200 <= code < 300:
            raise UnknownOutcome(
                f"{action}: HTTP {code}", action=action, http_status=code, body_head=body_head
            )
        return payload, body_head

    def _scrub(self, text: str) -> str:
        return scrub(text, self._key)


def _load_json(text: str) -> object:
    # Some PHP panels prepend a UTF-8 BOM. parse_float=Decimal: money never becomes a float.
    try:
        payload: object = json.loads(text.lstrip("\ufeff"), parse_float=Decimal)
    except (ValueError, RecursionError):  # RecursionError: JSON nested past the stack
        return _INVALID
    return payload


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
