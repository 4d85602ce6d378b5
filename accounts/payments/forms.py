"""Forms of the payment pages. They parse input only; the payment services do the writes."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class ManualPaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        localize=True,
        help_text=_("The amount to add to your balance."),
    )
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=200,
        help_text=_("The transaction ID, or the name the payment was sent from."),
    )
    receipt = forms.FileField(
        label=_("Receipt"),
        required=False,
        help_text=_("Optional: a screenshot or photo of the receipt (JPEG, PNG, WebP or GIF)."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )
