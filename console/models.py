"""The console's own tables: the daily rollup, the audit log and the notification inbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from panel.money import MoneyField


class DailyRollup(models.Model):
    """Settled orders of one day × provider × service: what the dashboard charts read.

    Rows are bumped in the transaction that settles an order (console.services.rollup), so
    the dashboard never scans the orders table. The day is the day the order settled (UTC).
    """

    day = models.DateField()
    provider = models.ForeignKey("catalog.Provider", on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="+")
    orders = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    canceled = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    charge = MoneyField(default=0)  # what customers paid for these orders
    refunded = MoneyField(default=0)  # what went back to them
    cost = MoneyField(default=0)  # what the provider billed

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "provider", "service"], name="rollup_one_row_per_day"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.provider_id}/{self.service_id}"


class AuditEntry(models.Model):
    """One staff action that moved money, changed a price, edited a provider or resolved a
    review: who, when, what, and the values before → after. Written by services, never edited.
    """

    class Action(models.TextChoices):
        MONEY = "money", _("Money")
        PRICE = "price", _("Price or markup")
        PROVIDER = "provider", _("Provider")
        REVIEW = "review", _("Review")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    staff_email = models.CharField(max_length=254)  # kept when the staff account is deleted
    action = models.CharField(max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    message = models.TextField()
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.staff_email}: {self.message[:80]}"


class Notification(models.Model):
    """An alert for the operators. Stored first (the inbox), then sent by email and Telegram.

    Throttled per (kind, subject): a repeat within the throttle window bumps ``repeats`` on
    the same row instead of sending again.
    """

    class Kind(models.TextChoices):
        BALANCE_LOW = "balance_low", _("Provider balance low")
        OUT_OF_FUNDS = "out_of_funds", _("Provider out of funds")
        PROVIDER_PAUSED = "provider_paused", _("Provider paused")
        NEEDS_REVIEW = "needs_review", _("Order needs review")
        SERVICE_DISABLED = "service_disabled", _("Service disabled: cost above price")
        SYNC_FAILED = "sync_failed", _("Sync failed")
        RECONCILIATION = "reconciliation", _("Reconciliation mismatch")
        UNRECORDED = "unrecorded", _("Upstream order not recorded")
        MANUAL_PAYMENT = "manual_payment", _("Manual payment to check")

    class Delivery(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        OFF = "off", _("Not configured")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject_key = models.CharField(max_length=64)  # "provider:3", "order:17": the throttle key
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)  # an admin page to act on it
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField()
    repeats = models.PositiveIntegerField(default=1)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=8, choices=Delivery.choices, default=Delivery.PENDING
    )
    telegram_status = models.CharField(
        max_length=8, choices=Delivery.choices, default=Delivery.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["kind", "subject_key", "-last_seen_at"], name="notify_throttle"),
            models.Index(
                fields=["id"], condition=models.Q(read_at__isnull=True), name="notify_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title
