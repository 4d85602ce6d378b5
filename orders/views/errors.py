"""The customer-facing text of an order service error, in the customer's language.

The services raise English sentences; the static ones are listed here so they are in the
translation catalogue, and the ones carrying a number are rebuilt from the canonical API sentence.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from orders.errors import OrderError

KNOWN_MESSAGES = (
    gettext_noop("This service does not exist or is not available."),
    gettext_noop("Enter the link."),
    gettext_noop("Your balance is too low for this order."),
    gettext_noop(
        "There is already an active order for this link on this service. "
        "Please wait until it is completed."
    ),
    gettext_noop("This service does not support drip-feed."),
    gettext_noop("Drip-feed needs both runs and interval."),
    gettext_noop("Enter a username or a full http(s) profile address."),
    gettext_noop("This service cannot be ordered."),
    gettext_noop("This service cannot be ordered (no price)."),
    gettext_noop("Enter the number of posts for this subscription."),
    gettext_noop("The expiry date must be written as day/month/year (d/m/Y)."),
    gettext_noop("The expiry date is in the past."),
    gettext_noop("“min” must not be greater than “max”."),
    gettext_noop("Your balance does not cover the first post of this subscription."),
    gettext_noop("This order does not exist."),
    gettext_noop("Refill is not available for this order."),
    gettext_noop("A refill of this order is already in progress."),
    gettext_noop("This order can't be canceled."),
    gettext_noop("A cancel was already requested for this order."),
)

_TOO_SMALL = re.compile(r"Quantity less than minimal (\d+)")
_TOO_LARGE = re.compile(r"Quantity more than maximum (\d+)")


def error_text(exc: OrderError) -> str:
    too_small = _TOO_SMALL.fullmatch(str(exc.api_error))
    if too_small:
        return gettext("The quantity must be at least %(n)s.") % {"n": too_small.group(1)}
    too_large = _TOO_LARGE.fullmatch(str(exc.api_error))
    if too_large:
        return gettext("The quantity must be at most %(n)s.") % {"n": too_large.group(1)}
    return gettext(exc.message)
