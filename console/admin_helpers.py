"""Small display helpers shared by the admin modules."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _


def short_age(moment: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """ "5m", "3h", "12d": an age that fits a narrow column."""
    if moment is None:
        return "-"
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    if seconds < 3600:
        return _("%(n)sm") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)sh") % {"n": seconds // 3600}
    return _("%(n)sd") % {"n": seconds // 86400}


CENTS = Decimal("0.01")


def money_cell(value: Decimal | None) -> str:
    """An amount in a narrow column: 2 decimals, the exact stored value in the tooltip."""
    if value is None:
        return "-"
    exact = Decimal(value)
    shown = exact.quantize(CENTS, rounding=ROUND_HALF_UP)
    if shown == exact:
        return str(shown)
    return format_html('<span title="{}">{}</span>', exact.normalize(), shown)


def compact(number: int) -> str:
    """10000 → "10K", 10000000 → "10M": quantities in a narrow column."""
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if number >= size and number % size == 0:
            return f"{number // size}{suffix}"
    return str(number)


def clipped(text: str, length: int) -> str:
    """``text`` cut to ``length`` characters on one line, the whole of it in the tooltip."""
    return format_html(
        '<span title="{}" style="white-space:nowrap">{}</span>', text, Truncator(text).chars(length)
    )


def audit_link(obj: Model) -> str:
    """A link to the audit log filtered to this object."""
    if obj.pk is None:
        return "-"
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    query = urlencode({"content_type__id__exact": content_type.pk, "object_id": obj.pk})
    url = reverse("admin:console_auditentry_changelist") + "?" + query
    return format_html('<a href="{}">{}</a>', url, _("Staff actions on this record"))
