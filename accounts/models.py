from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from panel.money import ZERO, MoneyField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A panel user who logs in with an email address."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        RESELLER = "reseller", _("Reseller")

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    # A cached figure: the ledger is the record; balance_debit/credit keep the two in step.
    balance = MoneyField(default=ZERO, editable=False)
    # Reseller discount off every selling rate (custom per-service rates take precedence).
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    timezone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=8, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="user_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.email


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Ledger entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Ledger entries are append-only")


class LedgerEntry(models.Model):
    """One change of one user's balance. Rows are never updated or deleted."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        BONUS = "bonus", _("Deposit bonus")
        ORDER_CHARGE = "order_charge", _("Order charge")
        SUBSCRIPTION_CHARGE = "subscription_charge", _("Subscription post charge")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Manual adjustment")
        REFERRAL = "referral", _("Referral commission")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # Signed: positive credits the balance, negative debits it.
    amount = MoneyField()
    balance_after = MoneyField()
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    payment = models.ForeignKey(
        "accounts.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # Why: the database, not the code path, guarantees an order is charged once and
            # refunded at most once, however often a status is seen.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(kind__in=["order_charge", "refund"]),
                name="ledger_once_per_order_kind",
            ),
            models.UniqueConstraint(
                fields=["payment", "kind"],
                condition=Q(payment__isnull=False),
                name="ledger_once_per_payment_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.user_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("Ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Ledger entries are append-only")


class ManualMethod(models.Model):
    """A payment method staff confirm by hand (bank transfer, a wallet address…).

    The customer pays outside the panel following `instructions`, then reports the amount and
    a reference (and optionally a receipt image); staff approve or reject the report.
    """

    name = models.CharField(_("name"), max_length=100)
    instructions = models.TextField(
        _("instructions"), help_text=_("Shown to the customer: where and how to pay.")
    )
    min_deposit = MoneyField(_("minimum deposit"), default=ZERO)
    max_deposit = MoneyField(_("maximum deposit"))
    fee_percent = models.DecimalField(
        _("fee percent"),
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text=_("Added on top of the amount: the customer pays amount + fee."),
    )
    receipt_required = models.BooleanField(_("receipt required"), default=False)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("manual payment method")
        verbose_name_plural = _("manual payment methods")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_deposit__gte=0) & Q(max_deposit__gte=models.F("min_deposit")),
                name="manual_method_limits",
            ),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0) & Q(fee_percent__lt=100),
                name="manual_method_fee_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def code(self) -> str:
        return f"manual-{self.pk}"


class DepositBonus(models.Model):
    """A deposit bonus rule: deposits of at least `min_amount` get `percent` on top.

    Applies the same to every payment method; of several matching rules the highest wins.
    """

    min_amount = MoneyField(_("from amount"))
    percent = models.DecimalField(_("bonus percent"), max_digits=5, decimal_places=2)
    is_enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["min_amount"]
        verbose_name = _("deposit bonus")
        verbose_name_plural = _("deposit bonuses")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100) & Q(min_amount__gte=0),
                name="deposit_bonus_range",
            ),
        ]

    def __str__(self) -> str:
        return f"+{self.percent}% from {self.min_amount}"


class Payment(models.Model):
    """A deposit through a payment gateway or a manual method; credited once when the gateway
    confirms it or staff approve it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", pgettext_lazy("payment", "Rejected")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(max_length=32)
    # What the balance is credited; the customer pays amount + fee, and gets bonus on top.
    amount = MoneyField()
    fee = MoneyField(default=ZERO)
    bonus = MoneyField(default=ZERO)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    # Why a payment failed or needs a look (e.g. a confirmed amount that did not match).
    note = models.CharField(max_length=255, blank=True)
    # Manual methods: what the customer reported, and who decided.
    method = models.ForeignKey(
        ManualMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    reference = models.CharField(max_length=200, blank=True)
    receipt = models.FileField(upload_to="receipts/%Y/%m/", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "external_id"],
                condition=~Q(external_id=""),
                name="payment_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.amount} {self.currency} ({self.status})"

    GATEWAY_NAMES: ClassVar[dict[str, Any]] = {
        "stripe": _("Card (Stripe)"),
        "nowpayments": _("Crypto (NOWPayments)"),
        "paypal": "PayPal",
    }

    @property
    def method_name(self) -> str:
        """How the customer paid, as the Add funds page names the method."""
        if self.method_id is not None and self.method is not None:
            return self.method.name
        return str(self.GATEWAY_NAMES.get(self.gateway, self.gateway))

    @property
    def payable(self) -> Decimal:
        """What the customer pays: the amount credited plus the method's fee."""
        return Decimal(self.amount) + Decimal(self.fee)


class ManualPayment(Payment):
    """Payments through manual methods, for the staff review queue in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("manual payment")
        verbose_name_plural = _("manual payments")


class ApiKey(models.Model):
    """A user's API key, stored as a public prefix plus a hash of the whole key."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_key"
    )
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
