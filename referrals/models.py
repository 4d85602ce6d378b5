"""The referral programme: links, visits, referred sign-ups and the commission on deposits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from panel.money import MoneyField


class Programme(models.Model):
    """The one set of rules staff edit in the admin (a single row, created on first read)."""

    is_enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("Off: links still open the site, but nothing is tracked or credited."),
    )
    commission_percent = models.DecimalField(
        _("commission percent"),
        max_digits=5,
        decimal_places=2,
        default=5,
        help_text=_("Share of each deposit of a referred customer credited to the referrer."),
    )

    class Meta:
        verbose_name = _("referral programme")
        verbose_name_plural = _("referral programme")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commission_percent__gte=0, commission_percent__lte=100),
                name="referral_commission_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commission_percent}%"


class ReferralCode(models.Model):
    """A customer's referral link is /r/<code>/."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_code"
    )
    code = models.CharField(max_length=16, unique=True)
    visits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """`referred` signed up through `referrer`'s link (one referrer per account, ever)."""

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals"
    )
    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referred_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("referred")), name="referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id}"


class Commission(models.Model):
    """What one deposit of a referred customer earned the referrer (once per deposit)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="commissions")
    payment = models.OneToOneField(
        "accounts.Payment", on_delete=models.PROTECT, related_name="referral_commission"
    )
    deposit = MoneyField()
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = MoneyField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.amount} for payment {self.payment_id}"
