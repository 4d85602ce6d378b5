from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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


class Payment(models.Model):
    """A deposit through a payment gateway; credited once when the gateway confirms it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(max_length=32)
    amount = MoneyField()
    bonus = MoneyField(default=ZERO)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    # Why a payment failed or needs a look (e.g. a confirmed amount that did not match).
    note = models.CharField(max_length=255, blank=True)
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
