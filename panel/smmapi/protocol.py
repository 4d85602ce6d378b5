"""The vocabulary of SMM panel API v2, shared by our client, our server and the simulator.

Everything here comes from ``shared/reference/smm-api-v2.md``: the canonical ``type`` strings,
the ``add`` fields each type takes, the canonical status strings and the error sentences.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MAX_IDS_PER_REQUEST = 100


class ServiceType(enum.StrEnum):
    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    COMMENT_LIKES = "Comment Likes"
    COMMENT_REPLIES = "Comment Replies"
    POLL = "Poll"
    INVITES_FROM_GROUPS = "Invites from Groups"
    SEO = "SEO"
    SUBSCRIPTIONS = "Subscriptions"

    @classmethod
    def parse(cls, raw: object) -> ServiceType | None:
        """Map any spelling seen in the wild (``custom_comments``, ``default``, missing) to a type.

        A missing or empty type means Default; an unrecognised one returns None.
        """
        if raw is None:
            return cls.DEFAULT
        text = str(raw).strip()
        if not text:
            return cls.DEFAULT
        return _TYPE_BY_KEY.get(_type_key(text))


def _type_key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


_TYPE_BY_KEY = {_type_key(t.value): t for t in ServiceType}


@dataclass(frozen=True)
class TypeSpec:
    """Which ``add`` fields a service type takes, besides key, action and service."""

    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Package-like types are charged flat: the rate is the price of one package.
    flat_price: bool = False
    # Types whose quantity is the number of lines in ``comments``.
    quantity_from: str | None = None
    takes_link: bool = True


TYPE_SPECS: dict[ServiceType, TypeSpec] = {
    ServiceType.DEFAULT: TypeSpec(("link", "quantity"), optional=("runs", "interval")),
    ServiceType.PACKAGE: TypeSpec(("link",), flat_price=True),
    ServiceType.CUSTOM_COMMENTS: TypeSpec(("link", "comments"), quantity_from="comments"),
    ServiceType.MENTIONS: TypeSpec(("link", "quantity", "usernames")),
    ServiceType.MENTIONS_WITH_HASHTAGS: TypeSpec(("link", "quantity", "usernames", "hashtags")),
    ServiceType.MENTIONS_CUSTOM_LIST: TypeSpec(("link", "usernames"), quantity_from="usernames"),
    ServiceType.MENTIONS_HASHTAG: TypeSpec(("link", "quantity", "hashtag")),
    ServiceType.MENTIONS_USER_FOLLOWERS: TypeSpec(("link", "quantity", "username")),
    ServiceType.MENTIONS_MEDIA_LIKERS: TypeSpec(("link", "quantity", "media")),
    ServiceType.CUSTOM_COMMENTS_PACKAGE: TypeSpec(("link", "comments"), flat_price=True),
    ServiceType.COMMENT_LIKES: TypeSpec(("link", "quantity", "username")),
    ServiceType.COMMENT_REPLIES: TypeSpec(
        ("link", "username", "comments"), quantity_from="comments"
    ),
    ServiceType.POLL: TypeSpec(("link", "quantity", "answer_number")),
    ServiceType.INVITES_FROM_GROUPS: TypeSpec(("link", "quantity", "groups")),
    ServiceType.SEO: TypeSpec(("link", "quantity", "keywords")),
    ServiceType.SUBSCRIPTIONS: TypeSpec(
        ("username", "min", "max"),
        optional=("posts", "old_posts", "delay", "expiry"),
        takes_link=False,
    ),
}

# Fields holding one item per line (split on \n or \r\n).
LIST_FIELDS = frozenset({"comments", "usernames", "hashtags", "groups", "keywords"})

SUBSCRIPTION_DELAYS = (0, 5, 10, 15, 30, 60, 90)


class Status(enum.StrEnum):
    """Canonical order status strings, as our server answers them."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    # Subscriptions.
    ACTIVE = "Active"
    PAUSED = "Paused"
    EXPIRED = "Expired"


class RefillStatus(enum.StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"


class Error(enum.StrEnum):
    """The canonical error sentences; our server answers exactly these."""

    INCORRECT_REQUEST = "Incorrect request"
    INVALID_KEY = "Invalid API key"
    INCORRECT_ACTION = "Incorrect action"
    INCORRECT_SERVICE = "Incorrect service ID"
    INCORRECT_LINK = "Incorrect link"
    NOT_ENOUGH_FUNDS = "Not enough funds on balance"
    ACTIVE_ORDER = "You have active order with this link. Please wait until order being completed."
    INCORRECT_ORDER = "Incorrect order ID"
    REFILL_NOT_FOUND = "Refill not found"
    REFILL_NOT_AVAILABLE = "Refill is not available for this order"
    CANNOT_CANCEL = "Order can't be canceled"


def quantity_too_small(minimum: int) -> str:
    return f"Quantity less than minimal {minimum}"


def quantity_too_large(maximum: int) -> str:
    return f"Quantity more than maximum {maximum}"


def split_lines(value: str) -> list[str]:
    """Split a one-item-per-line field on ``\\n`` or ``\\r\\n``, dropping blank lines."""
    return [line.strip() for line in value.splitlines() if line.strip()]
