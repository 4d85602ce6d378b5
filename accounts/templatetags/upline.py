"""Template helpers for the customer panel: money and statuses formatted per locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.forms import BoundField
from django.http import QueryDict
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

from catalog.models import Service

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "RUB": "₽", "GBP": "£", "INR": "₹", "TRY": "₺"}

# Order statuses grouped by the colour a badge gets; anything unknown is neutral.
STATUS_TONES = {
    "completed": "ok",
    "active": "ok",
    "partial": "warn",
    "needs_review": "warn",
    "paused": "warn",
    "canceled": "bad",
    "failed": "bad",
    "expired": "muted",
    "rejected": "bad",
    "in_progress": "info",
    "pending": "info",
    "sent": "info",
    "paid": "ok",
}


CENT = Decimal("0.01")


def format_amount(value: Decimal | int | str | None, *, exact: bool = False) -> str:
    """A localized amount, as customers read it.

    Two decimals (half up), except an amount under a cent, which keeps the decimals it has (up
    to the 5 stored: providers bill fractions of a cent, and "$0.00" for 0.00125 would be
    wrong). `exact` shows every stored decimal beyond two (for the tooltip).
    """
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    text = format(amount.normalize(), "f")
    places = min(len(text.split(".")[1]) if "." in text else 0, 5)
    keep_all = exact or (amount and abs(amount) < CENT)
    places = max(2, places) if keep_all else 2
    # number_format truncates extra digits, so round here, once, half up.
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)


def _with_currency(amount: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(settings.PANEL_CURRENCY, settings.PANEL_CURRENCY)
    sign = "−" if amount.startswith("-") else ""
    amount = amount.lstrip("-")
    # Russian puts the symbol after the figure; English before it.
    if (get_language() or "en").startswith("ru"):
        return f"{sign}{amount}\u00a0{symbol}"
    return f"{sign}{symbol}{amount}"


@register.filter
def money(value: Decimal | int | str | None) -> str:
    """Amount with the panel currency, e.g. "$1,234.50" (en) or "1 234,50 $" (ru): the one
    display rule for customers (see format_amount). When that rounds, the exact stored value is
    in the element's tooltip; the APIs always return the exact value."""
    if value is None or value == "":
        return "—"
    shown = _with_currency(format_amount(value))
    exact = _with_currency(format_amount(value, exact=True))
    if exact == shown:
        return shown
    return format_html('<span class="money" title="{}">{}</span>', exact, shown)


@register.filter
def money_text(value: Decimal | int | str | None) -> str:
    """The same figure as `money` as plain text (for attributes and option labels)."""
    if value is None or value == "":
        return "—"
    return _with_currency(format_amount(value))


@register.filter
def amount(value: Decimal | int | str | None) -> str:
    """Localized number without a currency sign, every stored decimal kept (percentages)."""
    return format_amount(value, exact=True)


@register.filter
def status_tone(status: str) -> str:
    return STATUS_TONES.get(str(status), "muted")


@register.simple_tag
def status_badge(value: str, label: str) -> SafeString:
    return format_html('<span class="badge badge-{}">{}</span>', status_tone(value), label)


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters replaced (for pagination and filters)."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def add_error_attr(field: BoundField) -> SafeString:
    """Render a bound field marked invalid for assistive technology."""
    return field.as_widget(attrs={"aria-invalid": "true"})


def _duration(seconds: int) -> str:
    """A rough, readable duration: the two largest units ("1 day 4 hours", "35 minutes")."""
    minutes = max(1, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes})
    return " ".join(parts[:2])


@register.filter
def average_time(service: Service) -> str:
    """What a customer reads as a service's average time: measured from our completed orders
    (per 1,000 units), else what staff wrote, else "Not known"."""
    measured = service.completion_seconds_per_1000
    if measured is not None:
        return gettext("%(time)s per 1000") % {"time": _duration(measured)}
    return service.average_time or gettext("Not known")
