"""The customer-facing text of an order service error, in the customer's language.

The services raise English sentences; the static ones are listed here so they are in the
translation catalogue, and the ones carrying a number are rebuilt from the canonical API sentence.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from orders.errors import OrderError
from orders.forms import FIELD_META

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

# The sentences built from a field's name and a bound: the services raise them as templates with
# parameters; here the field's name becomes its label in the customer's language.
TEMPLATES = (
    gettext_noop("“%(field)s” is required for this service."),
    gettext_noop("“%(field)s” is too long (at most %(n)s characters)."),
    gettext_noop("A line of “%(field)s” is too long (at most %(n)s characters)."),
    gettext_noop("“%(field)s” contains control or invalid characters."),
    gettext_noop("“%(field)s” must be a full http(s) address."),
    gettext_noop("“%(field)s” needs at least one line."),
    gettext_noop("“%(field)s” must be a whole number from %(minimum)s to %(maximum)s."),
    gettext_noop("“%(field)s” must be one of %(allowed)s minutes."),
    gettext_noop("The quantity must equal the number of lines in “%(lines)s” (%(n)s)."),
    gettext_noop("The quantity must be at least %(n)s."),
    gettext_noop("The quantity must be at most %(n)s."),
    gettext_noop("The idempotency key is too long (at most %(n)s characters)."),
    gettext_noop("The idempotency key contains control or invalid characters."),
)


def _label(name: object) -> str:
    meta = FIELD_META.get(str(name))
    return str(meta.label) if meta is not None else str(name)


def error_text(exc: OrderError) -> str:
    if not exc.params:
        return gettext(exc.message)
    params = {
        key: _label(value) if key in ("field", "lines") else value
        for key, value in exc.params.items()
    }
    try:
        return gettext(exc.template) % params
    except (KeyError, TypeError, ValueError):
        # A translation whose placeholders do not match its msgid: the English sentence.
        return exc.message
