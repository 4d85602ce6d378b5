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


class RejectReason(enum.StrEnum):
    """What a provider's error sentence means, recognised loosely (see ``from_message``)."""

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

# Order matters: the first match wins. Sentences mentioning several things ("You have active order
# with this link", "Refill is not available for this order") are caught by the more specific
# patterns before the generic "link" / "order" ones.
_PATTERNS: tuple[tuple[RejectReason, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern))
    for reason, pattern in (
        (RejectReason.RATE_LIMITED, r"\btoo many (requests|attempts)\b|\brate ?limit"),
        (RejectReason.BAD_KEY, r"\b(api ?key|key|apikey|token|unauthori[sz]ed|authenticat\w*)\b"),
        (
            RejectReason.NOT_ENOUGH_FUNDS,
            r"\b(funds?|insufficient|low balance|not enough (balance|money|credit)|"
            r"balance (is )?(too low|not enough|insufficient))\b",
        ),
        (
            RejectReason.ACTIVE_ORDER,
            r"\bactive order|\bwait until\b|"
            r"\balready\b.*\b(link|url)\b|\b(link|url)\b.*\balready\b",
        ),
        (RejectReason.QUANTITY_BOUNDS, r"\b(quantity|qty|minimal|minimum|maximum)\b"),
        (
            RejectReason.BAD_ORDER_ID,
            r"\brefill id\b|\brefills? (is |was |were )?not found\b|"
            r"\b(incorrect|invalid|unknown|wrong) refill\b",
        ),
        (RejectReason.REFILL_UNAVAILABLE, r"\brefill"),
        (RejectReason.CANNOT_CANCEL, r"\bcancel"),
        (RejectReason.BAD_LINK, r"\b(link|url|username)\b"),
        (RejectReason.BAD_SERVICE, r"\bservices?\b"),
        (
            RejectReason.BAD_ORDER_ID,
            r"\borders?\b.*\b(id|not found|incorrect|invalid|unknown|does not exist)\b|"
            r"\b(incorrect|invalid|unknown|wrong|no such)\b.*\border\b",
        ),
    )
)


class ProviderError(Exception):
    """Base of the three failure kinds. ``message`` never contains the API key."""

    def __init__(self, message: str, *, action: str = "") -> None:
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
