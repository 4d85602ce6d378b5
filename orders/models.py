from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders import states
from panel.money import MoneyField


class Order(models.Model):
    """A customer's order. The row is the source of truth for forwarding (the outbox)."""

    Status = states.OrderStatus
    ReviewReason = states.ReviewReason

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        MASS = "mass", _("Mass order")
        API_V2 = "api_v2", _("API v2")
        REST = "rest", _("REST API")
        ADMIN = "admin", _("Admin")

    class CancelStatus(models.TextChoices):
        NONE = "", _("None")
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent")
        REJECTED = "rejected", _("Rejected")

    # No single-column indexes on user, provider and status: order_user_recent,
    # order_provider_status and order_status below serve those lookups, and every index is
    # one more write each time status sync moves an order.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="orders")
    # What the order was placed against, frozen at placement.
    provider = models.ForeignKey(
        "catalog.Provider", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    upstream_service_id = models.CharField(max_length=64)
    type = models.CharField(max_length=32)
    link = models.CharField(max_length=2000, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    # Type-specific add fields (comments, usernames, runs, interval, subscription fields…).
    fields = models.JSONField(default=dict, blank=True)
    runs = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True)
    rate = MoneyField()  # selling rate per 1000 (or per package) at placement
    charge = MoneyField()  # what the customer paid
    cost = MoneyField(null=True, blank=True)  # what the provider billed, in panel currency
    # What the provider gave back of its charge when the order ended (its charge before the
    # refund minus ``cost`` after it). Its charge before the refund is cost + provider_refunded.
    provider_refunded = MoneyField(default=0)
    refunded = MoneyField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    upstream_order_id = models.CharField(max_length=64, blank=True, default="")
    start_count = models.IntegerField(null=True, blank=True)
    remains = models.IntegerField(null=True, blank=True)
    upstream_status = models.CharField(max_length=64, blank=True)
    cancel_status = models.CharField(
        max_length=16, choices=CancelStatus.choices, blank=True, default=CancelStatus.NONE
    )
    # Forwarding bookkeeping.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # for the admin (provider's words, raw bytes)
    # Why the order needs review (see orders.states), and the numbers staff need to decide:
    # the provider's remains and charge against ours, the full upstream id, posts owed…
    review_reason = models.CharField(
        max_length=32, choices=states.ReviewReason.choices, blank=True, default=""
    )
    review_data = models.JSONField(default=dict, blank=True)
    customer_message = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    # Subscriptions: posts delivered so far (charged per post when there is no posts limit).
    posts_delivered = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Idempotency for reseller APIs: same key + same parameters → the same order.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001 - NULL = no key
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["provider", "upstream_order_id"],
                condition=~Q(upstream_order_id=""),
                name="order_unique_upstream_id",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="order_user_recent"),
            models.Index(fields=["provider", "status"], name="order_provider_status"),
            # A plain b-tree: db_index=True would add a second, LIKE-only index on status.
            models.Index(fields=["status"], name="order_status"),
            # The duplicate-link guard looks up active orders by (service, link).
            models.Index(
                fields=["service", "link"],
                condition=Q(status__in=list(states.ACTIVE_LINK)),
                name="order_active_link",
            ),
            # The operator console's queues and sidebar counts (console.selectors): small
            # partial indexes, so a count never walks the million settled orders.
            models.Index(
                fields=["review_reason"],
                condition=Q(status=states.OrderStatus.NEEDS_REVIEW),
                name="order_needs_review",
            ),
            models.Index(
                fields=["updated_at"],
                condition=Q(status=states.OrderStatus.FAILED),
                name="order_failed_recent",
            ),
            models.Index(
                fields=["cancel_status"],
                condition=Q(cancel_status__in=["requested", "sent"]),
                name="order_cancel_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk}"

    @property
    def units(self) -> int:
        """Units paid for: quantity × runs (posts for subscriptions, 1 for a package)."""
        return self.quantity * (self.runs or 1)

    @property
    def runs_delivered(self) -> int | None:
        """Drip-feed runs delivered so far, from the provider's remains."""
        if not self.runs or self.remains is None or not self.quantity:
            return None
        delivered = self.units - min(max(self.remains, 0), self.units)
        return delivered // self.quantity

    @property
    def unlimited_posts(self) -> bool:
        return self.type == "Subscriptions" and not self.fields.get("posts")


class Refill(models.Model):
    """A customer's refill request for a completed order, forwarded to the provider."""

    Status = states.RefillStatus

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refills")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    upstream_refill_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One refill in flight per order.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=list(states.REFILL_OPEN)),
                name="refill_one_open_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Refill {self.pk} of order {self.order_id}"


class ProviderReconciliation(models.Model):
    """One provider's day: what our orders say we spent vs how its balance moved."""

    provider = models.ForeignKey(
        "catalog.Provider", on_delete=models.CASCADE, related_name="reconciliations"
    )
    day = models.DateField()
    # Provider balances in the panel currency (converted with the provider's exchange rate).
    opening_balance = MoneyField(null=True, blank=True)
    closing_balance = MoneyField(null=True, blank=True)
    # Money the admin paid into the provider account that day (explains a balance rise).
    top_ups = MoneyField(default=0)
    orders_sent = models.PositiveIntegerField(default=0)
    recorded_cost = MoneyField(default=0)  # provider charges of orders sent that day
    recorded_refunds = MoneyField(default=0)  # provider-side refunds of orders ended that day
    # (opening + top-ups - closing) - (recorded cost - recorded refunds); None without balances.
    discrepancy = MoneyField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="reconciliation_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.day}"
