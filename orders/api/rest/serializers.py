"""REST representations. Serializers only read and validate; writes go through order services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import LedgerEntry
from catalog.models import Service
from orders.api.formatting import (
    canonical_refill_status,
    canonical_status,
    fmt_money,
    net_charge,
    remains_of,
)
from orders.models import Order, Refill
from panel.inbound import parse_count
from panel.smmapi.protocol import RefillStatus, ServiceType, Status

MONEY_SCHEMA = {"type": "string", "format": "decimal", "example": "1.30"}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field[Decimal, str, str, Any]):
    """Money as the canonical decimal string ("0.27819", "12.50"); read-only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> str:
        return fmt_money(value)


class CountField(serializers.IntegerField):
    """A whole number as a JSON integer or ASCII digits (``panel.inbound.parse_count``).

    DRF's IntegerField takes "+100", "１００", "100.0" and "1_000"; the order would then be
    charged for one number while the customer's tool believes it sent another.
    """

    def to_internal_value(self, data: Any) -> int:
        number = parse_count(data)
        if number is None:
            raise serializers.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class CategorySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ServiceSerializer(serializers.ModelSerializer[Service]):
    category = CategorySerializer()
    rate = serializers.SerializerMethodField(help_text="Your price per 1000 (per package).")
    min = serializers.IntegerField(source="min_quantity")
    max = serializers.IntegerField(source="max_quantity")
    type = serializers.ChoiceField(choices=[t.value for t in ServiceType])

    class Meta:
        model = Service
        fields = (
            "id",
            "name",
            "type",
            "category",
            "rate",
            "min",
            "max",
            "refill",
            "cancel",
            "dripfeed",
            "description",
        )

    @extend_schema_field(MONEY_SCHEMA)
    def get_rate(self, service: Service) -> str:
        # Rates for the whole page are computed once by the view (one query).
        return fmt_money(self.context["rates"][service.pk])


class ServiceFilterSerializer(serializers.Serializer[Any]):
    category = CountField(required=False, min_value=1)
    type = serializers.ChoiceField(choices=[t.value for t in ServiceType], required=False)
    search = serializers.CharField(required=False, max_length=200)


class OrderSerializer(serializers.ModelSerializer[Order]):
    service_name = serializers.CharField(source="service.name")
    status = serializers.SerializerMethodField()
    charge = serializers.SerializerMethodField(help_text="What the order cost, less refunds.")
    refunded = MoneyField()
    remains = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = (
            "id",
            "service",
            "service_name",
            "type",
            "link",
            "quantity",
            "runs",
            "interval",
            "fields",
            "status",
            "charge",
            "refunded",
            "currency",
            "start_count",
            "remains",
            "customer_message",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=[s.value for s in Status]))
    def get_status(self, order: Order) -> str:
        return canonical_status(order.status)

    def get_remains(self, order: Order) -> int:
        return remains_of(order)

    def get_currency(self, order: Order) -> str:
        return str(settings.PANEL_CURRENCY)

    @extend_schema_field(MONEY_SCHEMA)
    def get_charge(self, order: Order) -> str:
        return fmt_money(net_charge(order))


class OrderCreateSerializer(serializers.Serializer[Any]):
    """The SMM API v2 `add` fields; which ones a service needs depends on its type."""

    service = CountField(min_value=1)
    link = serializers.CharField(required=False, max_length=2000)
    quantity = CountField(required=False, min_value=0)
    runs = CountField(required=False, min_value=1)
    interval = CountField(required=False, min_value=1)
    comments = serializers.CharField(required=False, help_text="One per line.")
    usernames = serializers.CharField(required=False, help_text="One per line.")
    hashtags = serializers.CharField(required=False, help_text="One per line.")
    hashtag = serializers.CharField(required=False, max_length=255)
    username = serializers.CharField(required=False, max_length=2000)
    media = serializers.CharField(required=False, max_length=2000)
    answer_number = CountField(required=False, min_value=1)
    groups = serializers.CharField(required=False, help_text="One per line.")
    keywords = serializers.CharField(required=False, help_text="One per line.")
    min = CountField(required=False, min_value=0)
    max = CountField(required=False, min_value=0)
    posts = CountField(required=False, min_value=0)
    old_posts = CountField(required=False, min_value=0)
    delay = CountField(required=False, min_value=0)
    expiry = serializers.CharField(required=False, max_length=10, help_text="d/m/Y")

    def add_fields(self) -> dict[str, str]:
        """The validated fields as the text `order_place` takes."""
        return {
            name: str(value)
            for name, value in self.validated_data.items()
            if name != "service" and value is not None
        }


class OrderFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[s.value for s in Status], required=False)
    service = CountField(required=False, min_value=1)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    search = serializers.CharField(required=False, max_length=200, help_text="In the link.")


class RefillSerializer(serializers.ModelSerializer[Refill]):
    status = serializers.SerializerMethodField()

    class Meta:
        model = Refill
        fields = ("id", "order", "status", "created_at", "updated_at")
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=[s.value for s in RefillStatus]))
    def get_status(self, refill: Refill) -> str:
        return canonical_refill_status(refill.status)


class BalanceSerializer(serializers.Serializer[Any]):
    balance = serializers.CharField()
    currency = serializers.CharField()


class TransactionSerializer(serializers.ModelSerializer[LedgerEntry]):
    amount = MoneyField(help_text="Signed: positive credits, negative debits.")
    balance_after = MoneyField()

    class Meta:
        model = LedgerEntry
        fields = ("id", "kind", "amount", "balance_after", "order", "reason", "created_at")
        read_only_fields = fields


class TransactionFilterSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, required=False)
