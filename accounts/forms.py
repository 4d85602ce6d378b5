"""Forms of the customer's account pages. They parse input only; services do the writes."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from functools import cache
from typing import cast

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from pages.selectors import terms_published


@cache
def timezone_choices() -> list[tuple[str, str]]:
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")
    return [(name, name.replace("_", " ")) for name in names]


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=())
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("Pages are shown in this language whenever you are signed in."),
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "timezone", "language")
        labels = {"first_name": _("First name"), "last_name": _("Last name")}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["timezone"]).choices = timezone_choices()
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            ("", _("Browser default")),
            *[(code, name) for code, name in settings.LANGUAGES],
        ]


class AddFundsForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Payment method"), choices=())
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        localize=True,
    )

    def __init__(self, *args: object, gateways: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["gateway"]).choices = gateways


class SignupExtrasForm(forms.Form):
    """What allauth's sign-up form adds to its own fields: accepting the terms of service,
    asked only while a published Terms page exists (pages app)."""

    # allauth orders its sign-up fields by this: the terms come last, above the button.
    field_order = ["email", "password1", "password2", "accept_terms"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if terms_published():
            link = format_html(
                '<a href="{}" target="_blank" rel="noopener">{}</a>',
                reverse("page_terms"),
                _("terms of service"),
            )
            self.fields["accept_terms"] = forms.BooleanField(
                label=format_html(str(_("I accept the {terms}")), terms=link),
                error_messages={"required": _("Accept the terms of service to sign up.")},
            )

    def signup(self, request: HttpRequest, user: User) -> None:
        """allauth's hook after the account is saved: the acceptance needs no storing (the
        account cannot exist without it)."""
