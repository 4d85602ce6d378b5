"""REST views: parse, call one selector or service, render. No workflow lives here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.pricing import user_rates
from orders.api import selectors
from orders.api.formatting import ORDER_STATUS, fmt_money
from orders.api.rest.base import ApiView
from orders.api.rest.serializers import (
    BalanceSerializer,
    OrderCreateSerializer,
    OrderFilterSerializer,
    OrderSerializer,
    RefillSerializer,
    ServiceFilterSerializer,
    ServiceSerializer,
    TransactionFilterSerializer,
    TransactionSerializer,
)
from orders.models import Order
from orders.services import cancel_request, order_place, refill_request

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Repeating a request with the same key and the same body returns the original order "
        "(charged once); a different body under the same key is refused (400)."
    ),
)


def _filters(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ServiceList(ApiView):
    @extend_schema(parameters=[ServiceFilterSerializer], responses=ServiceSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Services for sale, at your prices. Filter by category or type, search by name."""
        filters = _filters(ServiceFilterSerializer, request)
        services = selectors.services_for_sale()
        if "category" in filters:
            services = services.filter(category_id=filters["category"])
        if "type" in filters:
            services = services.filter(type=filters["type"])
        if "search" in filters:
            services = services.filter(name__icontains=filters["search"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(services, request, view=self) or []
        rates = user_rates(user=request.user, services=page)
        data = ServiceSerializer(page, many=True, context={"rates": rates}).data
        return paginator.get_paginated_response(data)


class ServiceDetail(ApiView):
    @extend_schema(responses=ServiceSerializer)
    def get(self, request: Request, pk: int) -> Response:
        """One service for sale, at your price."""
        service = get_object_or_404(selectors.services_for_sale(), pk=pk)
        rates = user_rates(user=request.user, services=[service])
        return Response(ServiceSerializer(service, context={"rates": rates}).data)


class OrderList(ApiView):
    @extend_schema(parameters=[OrderFilterSerializer], responses=OrderSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your orders, newest first."""
        filters = _filters(OrderFilterSerializer, request)
        orders = selectors.orders_of(request.user)
        if "status" in filters:
            internal = [code for code, shown in ORDER_STATUS.items() if shown == filters["status"]]
            orders = orders.filter(status__in=internal)
        if "service" in filters:
            orders = orders.filter(service_id=filters["service"])
        if "created_after" in filters:
            orders = orders.filter(created_at__gte=filters["created_after"])
        if "created_before" in filters:
            orders = orders.filter(created_at__lt=filters["created_before"])
        if "search" in filters:
            orders = orders.filter(link__icontains=filters["search"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders, request, view=self) or []
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: Request) -> Response:
        """Place an order of any service type (the fields are those of SMM API v2 `add`)."""
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_place(
            user=request.user,
            service_id=serializer.validated_data["service"],
            fields=serializer.add_fields(),
            source=Order.Source.REST,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetail(ApiView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request: Request, pk: int) -> Response:
        """One of your orders."""
        order = get_object_or_404(selectors.orders_of(request.user), pk=pk)
        return Response(OrderSerializer(order).data)


class OrderRefill(ApiView):
    @extend_schema(request=None, responses={201: RefillSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Ask for a refill of a completed order."""
        refill = refill_request(user=request.user, order_id=pk)
        return Response(RefillSerializer(refill).data, status=status.HTTP_201_CREATED)


class OrderCancel(ApiView):
    @extend_schema(request=None, responses={202: OrderSerializer})
    def post(self, request: Request, pk: int) -> Response:
        """Cancel an order: at once if it has not been sent, else by asking the provider."""
        order = cancel_request(user=request.user, order_id=pk)
        order = selectors.orders_of(request.user).get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)


class RefillList(ApiView):
    @extend_schema(responses=RefillSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your refill requests, newest first."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.refills_of(request.user), request, view=self)
        return paginator.get_paginated_response(RefillSerializer(page or [], many=True).data)


class RefillDetail(ApiView):
    @extend_schema(responses=RefillSerializer)
    def get(self, request: Request, pk: int) -> Response:
        """One of your refill requests."""
        refill = get_object_or_404(selectors.refills_of(request.user), pk=pk)
        return Response(RefillSerializer(refill).data)


class Balance(ApiView):
    @extend_schema(responses=BalanceSerializer)
    def get(self, request: Request) -> Response:
        """Your balance."""
        return Response(
            {"balance": fmt_money(request.user.balance), "currency": settings.PANEL_CURRENCY}
        )


class TransactionList(ApiView):
    @extend_schema(
        parameters=[TransactionFilterSerializer], responses=TransactionSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        """Your balance history (the ledger), newest first."""
        filters = _filters(TransactionFilterSerializer, request)
        entries = selectors.ledger_of(request.user)
        if "kind" in filters:
            entries = entries.filter(kind=filters["kind"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(TransactionSerializer(page or [], many=True).data)


@csrf_exempt  # It changes nothing; a CSRF page would break the one error body.
def not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "Not found.", "code": "not_found"}, status=404)
