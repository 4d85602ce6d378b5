from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from panel import crypto
from panel.money import MoneyField
from panel.smmapi.protocol import ServiceType

SERVICE_TYPE_CHOICES = [(t.value, t.value) for t in ServiceType]


class Provider(models.Model):
    """An upstream SMM panel we buy from."""

    name = models.CharField(max_length=100, unique=True)
    api_url = models.URLField(max_length=500)
    # Encrypted at rest with the key ring (panel.crypto); read it with `api_key`.
    api_key_encrypted = models.TextField(editable=False)
    currency = models.CharField(max_length=3, default="USD")
    # Panel currency units per one provider currency unit.
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1)
    is_enabled = models.BooleanField(default=True)
    default_markup_percent = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    sync_interval_minutes = models.PositiveIntegerField(default=60)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    balance = MoneyField(null=True, blank=True, editable=False)
    balance_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    low_balance_threshold = MoneyField(null=True, blank=True)
    # Set when the provider answered "not enough funds": orders wait queued until funds return.
    is_paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=255, blank=True)
    # Pause bookkeeping (orders.services.forwarding.provider_pause): pauses counted since
    # ``pauses_since``; a provider paused too often in an hour is held paused until staff
    # clear it, instead of flapping paused → resumed → paused.
    pauses_since = models.DateTimeField(null=True, blank=True, editable=False)
    pause_count = models.PositiveIntegerField(default=0, editable=False)
    pause_held = models.BooleanField(default=False, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The end of the last status sync that polled every due order (orders.services.status_sync);
    # /readyz and /metrics report a provider whose open orders go unpolled.
    last_status_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The sync lock: a lease taken with a conditional UPDATE (see catalog.services.sync). A lease
    # rather than a row lock because the provider call must not run inside a transaction.
    sync_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Counts of the last finished sync (created, updated, vanished, ...), shown in the admin.
    last_sync_stats = models.JSONField(default=dict, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return crypto.decrypt(self.api_key_encrypted)

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_key_encrypted = crypto.encrypt(value)


class Category(models.Model):
    name = models.CharField(max_length=255, unique=True)
    sort_order = models.IntegerField(default=0, db_index=True)
    markup_percent = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    is_visible = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A service we sell, backed by one provider's upstream service."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    upstream_id = models.CharField(max_length=64)
    upstream_name = models.CharField(max_length=500, editable=False)
    upstream_category = models.CharField(max_length=500, blank=True, editable=False)
    upstream_description = models.TextField(blank=True, editable=False)
    # Upstream price per 1000 (per package for flat types), in the provider's currency.
    upstream_rate = models.DecimalField(max_digits=20, decimal_places=5, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    # Ours: edited names and descriptions survive a re-sync (sync only overwrites them while
    # they still equal the upstream text).
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=32, choices=SERVICE_TYPE_CHOICES, default="Default")
    min_quantity = models.PositiveIntegerField(default=1)
    max_quantity = models.PositiveIntegerField(default=1)
    dripfeed = models.BooleanField(default=False)
    refill = models.BooleanField(default=False)
    cancel = models.BooleanField(default=False)
    refill_days = models.PositiveIntegerField(default=30)
    allow_unlimited_posts = models.BooleanField(
        default=False, help_text=_("Subscriptions only: allow orders without a posts limit.")
    )
    # Staff's own words, shown when no completed orders give a measured time.
    average_time = models.CharField(max_length=64, blank=True)
    # Measured: the median time of the last completed orders, scaled to 1,000 units (see
    # catalog.services.completion). Null until enough orders completed.
    completion_seconds_per_1000 = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Pricing rules at the service level: a fixed selling rate wins over a markup percentage.
    fixed_rate = MoneyField(null=True, blank=True)
    markup_percent = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    # Our selling rate per 1000 (per package for flat types), in the panel currency.
    rate = MoneyField(editable=False)
    is_enabled = models.BooleanField(default=False)
    # False when the service vanished upstream.
    is_available = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "upstream_id"], name="service_unique_upstream_id"
            ),
        ]
        indexes = [
            models.Index(
                fields=["category", "id"],
                condition=Q(is_enabled=True, is_available=True),
                name="service_sellable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.name}"


class RateChange(models.Model):
    """History of upstream rate changes."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="rate_changes")
    old_rate = models.DecimalField(max_digits=20, decimal_places=5)
    new_rate = models.DecimalField(max_digits=20, decimal_places=5)
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.old_rate} → {self.new_rate}"


class ServiceUpdate(models.Model):
    """One customer-visible change of the catalogue, written by the sync (the Updates page)."""

    class Kind(models.TextChoices):
        ADDED = "added", _("New service")
        REMOVED = "removed", _("Service removed")
        RATE_UP = "rate_up", _("Rate increased")
        RATE_DOWN = "rate_down", _("Rate decreased")
        RESTORED = "restored", _("Service available again")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Our selling rates per 1000 around a reprice (the customer's view, not the upstream's).
    old_rate = MoneyField(null=True, blank=True)
    new_rate = MoneyField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.kind}"


class UserRate(models.Model):
    """A reseller's custom selling rate for one service."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="custom_rates"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="user_rates")
    rate = MoneyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="userrate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.service_id}: {self.rate}"


class CatalogAlert(models.Model):
    """Something an admin must look at: a service sold below cost, a provider low on funds."""

    class Kind(models.TextChoices):
        BELOW_COST = "below_cost", _("Upstream rate above our price")
        LOW_BALANCE = "low_balance", _("Provider balance low")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:80]}"
