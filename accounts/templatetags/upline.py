"""Template helpers for the customer panel: money and statuses formatted per locale."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.forms import BoundField
from django.http import QueryDict
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

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


def format_amount(value: Decimal | int | str | None, *, min_places: int = 2) -> str:
    """A localized amount: at least `min_places` decimals, trailing zeros beyond them dropped.

    Money is stored with 5 decimals (providers bill fractions of a cent), so 1.30000 reads
    "1.30" but 0.00125 keeps its precision.
    """
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    text = format(amount.normalize(), "f")
    places = len(text.split(".")[1]) if "." in text else 0
    places = max(min_places, min(places, 5))
    return formats.number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Decimal | int | str | None) -> str:
    """Amount with the panel currency, e.g. "$1,234.50" (en) or "1 234,50 $" (ru)."""
    if value is None or value == "":
        return "—"
    amount = format_amount(value)
    symbol = CURRENCY_SYMBOLS.get(settings.PANEL_CURRENCY, settings.PANEL_CURRENCY)
    negative = amount.startswith("-")
    amount = amount.lstrip("-")
    sign = "−" if negative else ""
    # Russian puts the symbol after the figure; English before it.
    if (get_language() or "en").startswith("ru"):
        return f"{sign}{amount}\u00a0{symbol}"
    return f"{sign}{symbol}{amount}"


@register.filter
def amount(value: Decimal | int | str | None) -> str:
    """Localized amount without a currency sign."""
    return format_amount(value)


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
