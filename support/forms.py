"""Forms of the support pages. They parse input only; support.services does the writes."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from support.models import Ticket

ORDER_ID_SEPARATORS = re.compile(r"[\s,;#]+")


class TicketOpenForm(forms.Form):
    category = forms.ChoiceField(label=_("About"), choices=Ticket.Category.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    order_ids = forms.CharField(
        label=_("Order IDs"),
        required=False,
        max_length=400,
        help_text=_("Optional. Your order numbers, separated by commas or spaces."),
    )
    body = forms.CharField(
        label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean_order_ids(self) -> list[int]:
        raw: str = self.cleaned_data["order_ids"]
        ids: list[int] = []
        for part in ORDER_ID_SEPARATORS.split(raw.strip()):
            if not part:
                continue
            # isascii: "²" passes isdigit() but int() refuses it.
            if not (part.isascii() and part.isdigit()) or len(part) > 18:
                raise forms.ValidationError(
                    _("“%(value)s” is not an order number."), params={"value": part[:20]}
                )
            ids.append(int(part))
        return ids


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
