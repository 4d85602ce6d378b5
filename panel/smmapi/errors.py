"""The three ways a provider call fails, and what a rejection means.

Callers decide what to do from the exception class alone:

* ``NotDelivered``: the request surely did not reach the provider; safe to send again.
* ``Rejected``: the provider answered with an error sentence; nothing was done upstream.
* ``UnknownOutcome``: the request may have been acted on (read timeout, reset after send, 5xx,
  garbage). For ``add`` this means an order may exist upstream: never re-send automatically.
"""

from __future__ import annotations

import enum
import re
from urllib.parse import quote, quote_plus

from panel.smmapi.protocol import Error

KEY_PLACEHOLDER = "[api-key]"
BODY_HEAD_CHARS = 500
# The most of a provider's text an exception (and so last_error, logs, the admin) keeps.
MAX_MESSAGE_CHARS = 500


class RejectReason(enum.StrEnum):
    """What a provider's error sentence means, recognised by known phrases (``from_message``)."""

    BAD_KEY = "bad_key"
    BAD_SERVICE = "bad_service"
    BAD_LINK = "bad_link"
    QUANTITY_BOUNDS = "quantity_bounds"
    NOT_ENOUGH_FUNDS = "not_enough_funds"
    ACTIVE_ORDER = "active_order"
    # An order id, or a refill id ("Refill not found"), the provider does not know.
    BAD_ORDER_ID = "bad_order_id"
    REFILL_UNAVAILABLE = "refill_unavailable"
    CANNOT_CANCEL = "cannot_cancel"
    # Refused for now (HTTP 429 or a "too many requests" sentence): nothing was done; retry later.
    RATE_LIMITED = "rate_limited"
    UNKNOWN = "unknown"

    @classmethod
    def from_message(cls, message: str) -> RejectReason:
        """Classify a provider's error sentence or translation key; UNKNOWN if not recognised."""
        exact = _EXACT.get(message.strip())
        if exact is not None:
            return exact
        # "neworder.error.not_enough_funds" and "Not enough funds" become the same words.
        words = " ".join(re.sub(r"[^a-z0-9]+", " ", message.lower()).split())
        for reason, pattern in _PATTERNS:
            if pattern.search(words):
                return reason
        return cls.UNKNOWN


_EXACT: dict[str, RejectReason] = {
    Error.INVALID_KEY: RejectReason.BAD_KEY,
    Error.INCORRECT_SERVICE: RejectReason.BAD_SERVICE,
    Error.INCORRECT_LINK: RejectReason.BAD_LINK,
    Error.NOT_ENOUGH_FUNDS: RejectReason.NOT_ENOUGH_FUNDS,
    Error.ACTIVE_ORDER: RejectReason.ACTIVE_ORDER,
    Error.INCORRECT_ORDER: RejectReason.BAD_ORDER_ID,
    Error.REFILL_NOT_FOUND: RejectReason.BAD_ORDER_ID,
    Error.REFILL_NOT_AVAILABLE: RejectReason.REFILL_UNAVAILABLE,
    Error.CANNOT_CANCEL: RejectReason.CANNOT_CANCEL,
}

# Order matters: the first match wins. Each pattern is a whole phrase, never one word: a verdict
# on the provider account (funds, key) pauses every order of that provider, so "Insufficient
# quantity for this service" must not read as funds, nor "Invalid token in link" as the key.
# Anything not recognised is that one order's rejection (UNKNOWN). Matched against the message
# lower-cased with every run of non-alphanumerics made one space (so translation keys such as
# "neworder.error.not_enough_funds" read as words).
_PATTERNS: tuple[tuple[RejectReason, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern))
    for reason, pattern in (
        (
            RejectReason.RATE_LIMITED,
            r"\btoo many (requests|attempts)\b|\brate limit(ed|s)?\b|\bratelimit(ed)?\b",
        ),
        (
            RejectReason.BAD_KEY,
            r"\b(invalid|incorrect|wrong|bad|unknown) (api ?key|key|api token)\b|"
            r"\b(api ?key|api token) (is )?(invalid|incorrect|wrong|not valid|not found|"
            r"required|missing|expired|disabled|blocked)\b|"
            r"\b(missing|no) api ?key\b|"
            # A bare HTTP "Unauthorized" as the whole answer: the key was refused.
            r"^unauthori[sz]ed$",
        ),
        (
            RejectReason.NOT_ENOUGH_FUNDS,
            r"\b(not enough|insufficient|no) (funds|balance|money|credits?)\b|"
            r"\bbalance (is )?(too low|not enough|insufficient)\b|"
            r"\blow balance\b|\bfunds (are )?(insufficient|not enough)\b",
        ),
        (
            RejectReason.ACTIVE_ORDER,
            r"\b(have|has|an|existing) active orders? (with|for|on) (this|the|that) (link|url)\b|"
            r"\bactive order with this link\b|"
            r"\b(link|url) (is )?already (has an active order|in use|ordered)\b|"
            r"\balready (have|has) an? (active )?order( in progress)? (with|for|on) "
            r"(this|the|same) (link|url)\b|\berror active order\b",
        ),
        (
            RejectReason.QUANTITY_BOUNDS,
            r"\bquantity (is )?(less|more|lower|higher|greater|smaller|bigger) than\b|"
            r"\b(min|minimal|minimum|max|maximal|maximum) (quantity|qty|amount)\b|"
            r"\bquantity (is )?(too (low|high|small|big|large)|out of range|below|above)\b|"
            r"\b(invalid|incorrect|wrong) (quantity|qty)\b",
        ),
        (
            RejectReason.BAD_ORDER_ID,
            r"\brefill id\b|\brefills? (is |was |were )?not found\b|"
            r"\b(incorrect|invalid|unknown|wrong) refill\b",
        ),
        (
            RejectReason.REFILL_UNAVAILABLE,
            r"\brefill (is )?(not available|unavailable|disabled|not allowed|not possible)\b|"
            r"\b(cannot|can t|can not|unable to) (be )?refill(ed)?\b|"
            r"\brefill (already|was already|is already)\b|\bno refill\b|"
            r"\brefill\b.*\b(is not|isn t) available\b|"
            r"\b(does not|doesn t|do not) support refills?\b|\brefills? (is )?not supported\b",
        ),
        (
            RejectReason.CANNOT_CANCEL,
            r"\b(cannot|can t|can not|could not|unable to) (be )?cancel(l?ed)?\b|"
            r"\bcancel(lation)? (is )?(not available|unavailable|not allowed|not possible|"
            r"disabled|failed|refused)\b|\bnot cancell?able\b",
        ),
        (
            RejectReason.BAD_LINK,
            r"\b(incorrect|invalid|wrong|bad|unknown|unsupported|private) (link|url|username)\b|"
            r"\b(link|url|username) (is )?(incorrect|invalid|wrong|not valid|private|"
            r"not found|not supported|unsupported|required)\b|\berror (link|url)\b",
        ),
        (
            RejectReason.BAD_SERVICE,
            r"\b(incorrect|invalid|wrong|unknown|disabled|inactive) service( id)?\b|"
            r"\bservice (id )?(is )?(incorrect|invalid|not found|disabled|inactive|"
            r"not available|unavailable|does not exist|doesn t exist)\b|"
            r"\bno such service\b",
        ),
        (
            RejectReason.BAD_ORDER_ID,
            r"\border( id)? (is )?(not found|incorrect|invalid|unknown|does not exist|"
            r"doesn t exist)\b|\b(incorrect|invalid|unknown|wrong|no such) order( id)?\b",
        ),
    )
)


class ProviderError(Exception):
    """Base of the three failure kinds. ``message`` never contains the API key."""

    def __init__(self, message: str, *, action: str = "") -> None:
        # Capped: a provider answering a megabyte of text must not have it stored on every order.
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(message)
        self.message = message
        self.action = action


class NotDelivered(ProviderError):
    """The request surely did not reach the provider (refused, DNS, TLS, connect/pool timeout)."""


class Rejected(ProviderError):
    """The provider answered ``{"error": ...}``: ``message`` is its sentence (key scrubbed)."""

    def __init__(
        self,
        message: str,
        *,
        action: str = "",
        reason: RejectReason | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, action=action)
        self.reason = reason if reason is not None else RejectReason.from_message(message)
        self.http_status = http_status


class UnknownOutcome(ProviderError):
    """The request may or may not have been acted on; ``body_head`` is kept for the admin."""

    def __init__(
        self,
        message: str,
        *,
        action: str = "",
        http_status: int | None = None,
        body_head: str = "",
    ) -> None:
        super().__init__(message, action=action)
        self.http_status = http_status
        self.body_head = body_head


def scrub(text: str, key: str) -> str:
    """Remove the API key from text: as is and in its URL-encoded forms."""
    if not key:
        return text
    for form in {key, quote_plus(key), quote(key, safe="")}:
        text = text.replace(form, KEY_PLACEHOLDER)
    return text
