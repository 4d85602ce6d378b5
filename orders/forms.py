"""Forms of the order pages. They collect the raw SMM API v2 `add` fields as strings and leave
every rule (bounds, links, prices) to `orders.services.order_place` / `order_quote`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog.models import Service
from panel.inbound import parse_count
from panel.smmapi.protocol import LIST_FIELDS, SUBSCRIPTION_DELAYS, TYPE_SPECS, ServiceType

MAX_MASS_LINES = 500


@dataclass(frozen=True)
class FieldMeta:
    label: Promise
    kind: str = "text"  # text | url | number | lines | delay | date
    help: Promise | str = ""
    placeholder: str = ""


FIELD_META: dict[str, FieldMeta] = {
    "link": FieldMeta(_("Link"), "url", placeholder="https://"),
    "quantity": FieldMeta(_("Quantity"), "number"),
    "comments": FieldMeta(_("Comments"), "lines", _("One comment per line.")),
    "usernames": FieldMeta(_("Usernames"), "lines", _("One username per line.")),
    "hashtags": FieldMeta(_("Hashtags"), "lines", _("One hashtag per line.")),
    "hashtag": FieldMeta(_("Hashtag"), "text", placeholder="#"),
    "username": FieldMeta(_("Username"), "text", _("A username or a full profile address.")),
    "media": FieldMeta(_("Media link"), "url", placeholder="https://"),
    "answer_number": FieldMeta(_("Answer number"), "number"),
    "groups": FieldMeta(_("Groups"), "lines", _("One group per line.")),
    "keywords": FieldMeta(_("Keywords"), "lines", _("One keyword per line.")),
    "min": FieldMeta(_("Minimum per post"), "number"),
    "max": FieldMeta(_("Maximum per post"), "number"),
    "posts": FieldMeta(_("New posts"), "number", _("How many new posts to deliver to.")),
    "old_posts": FieldMeta(_("Old posts"), "number", _("How many existing posts to include.")),
    "delay": FieldMeta(_("Delay"), "delay", _("Minutes to wait after a new post.")),
    "expiry": FieldMeta(_("Expiry date"), "date"),
    "runs": FieldMeta(_("Runs"), "number", _("Drip-feed: how many times to deliver.")),
    "interval": FieldMeta(_("Interval (minutes)"), "number", _("Drip-feed: minutes between runs.")),
}


def order_field_names(service: Service) -> tuple[list[str], list[str]]:
    """(required, optional) `add` fields the service's type takes, drip-feed only if offered."""
    service_type = ServiceType.parse(service.type) or ServiceType.DEFAULT
    spec = TYPE_SPECS[service_type]
    optional = [name for name in spec.optional if name not in ("runs", "interval")]
    if service.dripfeed and "quantity" in spec.fields:
        optional += ["runs", "interval"]
    return list(spec.fields), optional


def _widget(name: str, meta: FieldMeta) -> forms.Widget:
    attrs: dict[str, str] = {"id": f"id_{name}", "aria-describedby": f"err_{name} help_{name}"}
    if meta.placeholder:
        attrs["placeholder"] = meta.placeholder
    if meta.kind == "lines":
        attrs.update({"rows": "6", "data-count-lines": f"count_{name}"})
        return forms.Textarea(attrs=attrs)
    if meta.kind == "number":
        attrs.update({"inputmode": "numeric", "min": "0"})
        return forms.NumberInput(attrs=attrs)
    if meta.kind == "url":
        attrs.update({"inputmode": "url", "autocomplete": "off"})
        return forms.URLInput(attrs=attrs)
    if meta.kind == "date":
        return forms.DateInput(attrs={**attrs, "type": "date"})
    return forms.TextInput(attrs=attrs)


class OrderForm(forms.Form):
    """The fields one service needs, all kept as strings for `order_place`."""

    def __init__(self, *args: object, service: Service, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.service = service
        required, optional = order_field_names(service)
        for name in [*required, *optional]:
            meta = FIELD_META[name]
            field: forms.Field
            if meta.kind == "delay":
                field = forms.ChoiceField(
                    choices=[("", "—"), *[(str(d), str(d)) for d in SUBSCRIPTION_DELAYS]],
                    widget=forms.Select(attrs={"id": f"id_{name}"}),
                )
            else:
                # Not URLField/IntegerField: the service validates, so the web and both APIs
                # give the same answer for the same input.
                field = forms.CharField(widget=_widget(name, meta), strip=True)
            field.required = name in required
            field.label = str(meta.label)
            field.help_text = str(meta.help)
            self.fields[name] = field
        if "quantity" in self.fields:
            self.fields["quantity"].widget.attrs.update(
                {"min": str(service.min_quantity), "max": str(service.max_quantity)}
            )

    @property
    def counts_lines(self) -> list[str]:
        return [name for name in self.fields if name in LIST_FIELDS]

    def add_fields(self) -> dict[str, str]:
        """The raw `add` fields: non-empty values as strings (dates as d/m/Y)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        fields = {name: str(value) for name, value in data.items() if value not in (None, "")}
        if "expiry" in fields:
            fields["expiry"] = _to_dmy(fields["expiry"])
        return fields


def raw_add_fields(data: object, service: Service) -> dict[str, str]:
    """The `add` fields straight from the submitted data (for the live quote, no validation)."""
    required, optional = order_field_names(service)
    fields: dict[str, str] = {}
    for name in [*required, *optional]:
        value = str(data.get(name, "")).strip()  # type: ignore[attr-defined]
        if value:
            fields[name] = _to_dmy(value) if name == "expiry" else value
    return fields


def _to_dmy(value: str) -> str:
    # <input type=date> posts Y-m-d; the protocol's expiry is d/m/Y.
    try:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


class MassOrderForm(forms.Form):
    orders = forms.CharField(
        label=_("Orders"),
        widget=forms.Textarea(
            attrs={
                "rows": "12",
                "placeholder": "1 | https://instagram.com/example | 1000",
                "data-count-lines": "count_orders",
                "spellcheck": "false",
                "class": "mono",
            }
        ),
        help_text=_("One order per line: service ID | link | quantity"),
    )

    def clean_orders(self) -> str:
        text: str = self.cleaned_data["orders"]
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_MASS_LINES:
            raise forms.ValidationError(
                _("At most %(n)s orders at once."), params={"n": MAX_MASS_LINES}
            )
        return text


@dataclass(frozen=True)
class MassLine:
    number: int
    text: str
    service_id: int | None
    fields: dict[str, str]
    error: str = ""


def parse_mass_lines(text: str) -> list[MassLine]:
    """Split `service_id | link | quantity` lines; a malformed line carries its error."""
    parsed = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3:
            parsed.append(
                MassLine(
                    number,
                    line,
                    None,
                    {},
                    str(_("Write the line as: service ID | link | quantity.")),
                )
            )
            continue
        service_raw, link, quantity = parts
        service_id = parse_count(service_raw)
        if not service_id:
            parsed.append(
                MassLine(number, line, None, {}, str(_("The service ID must be a number.")))
            )
            continue
        parsed.append(MassLine(number, line, service_id, {"link": link, "quantity": quantity}))
    return parsed
