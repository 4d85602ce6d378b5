"""The new-order page: service search, category → service picker, live quote, placement.

The catalogue may hold 10,000+ services, so the page never ships them all: one category's
services are rendered at a time and search runs on the server.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from catalog.models import Category, Service
from catalog.pricing import user_rates
from catalog.selectors import categories_for_sale, search_services, services_for_sale
from orders.errors import PlacementError
from orders.forms import OrderForm, order_field_names, raw_add_fields
from orders.models import Order
from orders.services import order_place, order_quote
from orders.views.errors import error_text
from panel.throttle import rate_limited

logger = logging.getLogger(__name__)

SEARCH_LIMIT = 20
CATEGORIES_CACHE_KEY = "web:new-order:categories"
CATEGORIES_CACHE_SECONDS = 30


def _int(value: object) -> int | None:
    text = str(value or "").strip()
    # isascii: "²" passes isdigit() but int() refuses it.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None


@dataclass
class Picker:
    """What the picker shows: categories, the chosen category's services, the chosen service."""

    categories: list[Category]
    category: Category | None
    services: list[Service]
    service: Service | None
    rates: dict[int, Decimal] = field(default_factory=dict)

    @property
    def rate(self) -> Decimal | None:
        return self.rates.get(self.service.pk) if self.service else None


def _categories() -> list[Category]:
    """Categories with something for sale, cached briefly: the query scans the whole catalogue
    (10,000+ services) and the list changes only when an admin edits it."""
    try:
        rows = cache.get(CATEGORIES_CACHE_KEY)
    except Exception:
        # Why: with Redis down the order form must still place orders (found by make chaos).
        logger.warning("Categories not cached: the cache is unreachable", exc_info=True)
        return [
            Category(pk=pk, name=name)
            for pk, name in categories_for_sale().values_list("id", "name")
        ]
    if rows is None:
        rows = list(categories_for_sale().values_list("id", "name"))
        cache.set(CATEGORIES_CACHE_KEY, rows, CATEGORIES_CACHE_SECONDS)
    return [Category(pk=pk, name=name) for pk, name in rows]


def _picker(user: User, *, category_id: int | None, service_id: int | None) -> Picker:
    service = services_for_sale().filter(pk=service_id).first() if service_id else None
    categories = _categories()
    if service is not None:
        category_id = service.category_id
    category = next((c for c in categories if c.pk == category_id), None)
    if category is None and categories:
        category = categories[0]
    services: list[Service] = []
    if category is not None:
        services = list(services_for_sale().filter(category_id=category.pk).order_by("id"))
    if service is None and services:
        service = services[0]
    return Picker(
        categories=categories,
        category=category,
        services=services,
        service=service,
        rates=user_rates(user=user, services=services),
    )


def _form_context(picker: Picker, form: OrderForm | None, **extra: object) -> dict[str, object]:
    if form is None and picker.service is not None:
        form = OrderForm(service=picker.service)
    context: dict[str, object] = {"picker": picker, "form": form}
    if picker.service is not None:
        required, _optional = order_field_names(picker.service)
        context["quantity_from_lines"] = "quantity" not in required and any(
            name in ("comments", "usernames") for name in required
        )
    context.update(extra)
    return context


@login_required
@rate_limited("order")
def order_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method != "POST":
        picker = _picker(
            user,
            category_id=_int(request.GET.get("category")),
            service_id=_int(request.GET.get("service")),
        )
        return render(
            request,
            "orders/new_order.html",
            _form_context(picker, None, idempotency_key=uuid.uuid4().hex),
        )

    service_id = _int(request.POST.get("service"))
    idempotency_key = request.POST.get("idempotency_key", "")[:64] or uuid.uuid4().hex
    picker = _picker(user, category_id=_int(request.POST.get("category")), service_id=service_id)
    if picker.service is None or picker.service.pk != service_id:
        context = _form_context(picker, None, idempotency_key=idempotency_key, service_error=True)
        return render(request, "orders/new_order.html", context, status=400)
    form = OrderForm(request.POST, service=picker.service)
    if form.is_valid():
        try:
            # The form's one-time key makes a double submit (or back + resubmit) return the
            # first order instead of charging twice.
            order = order_place(
                user=user,
                service_id=picker.service.pk,
                fields=form.add_fields(),
                source=Order.Source.WEB,
                idempotency_key=f"web:{idempotency_key}",
            )
        except PlacementError as exc:
            target = exc.field if exc.field in form.fields else None
            form.add_error(target, error_text(exc))
        else:
            return redirect(reverse("order_detail", args=[order.pk]) + "?placed=1")
    context = _form_context(picker, form, idempotency_key=idempotency_key)
    return render(request, "orders/new_order.html", context, status=400)


@login_required
@rate_limited("live", methods=("GET",))
@require_GET
def service_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100].strip()
    results: list[Service] = []
    if query:
        results = list(search_services(services_for_sale(), query).order_by("id")[:SEARCH_LIMIT])
    rates = user_rates(user=request.user, services=results)
    for service in results:
        service.user_rate = rates[service.pk]  # type: ignore[attr-defined]
    return render(request, "orders/_search_results.html", {"results": results, "query": query})


@login_required
@rate_limited("live", methods=("GET",))
@require_GET
def service_picker(request: HttpRequest) -> HttpResponse:
    """The picker fragment after choosing a category, a service or a search result."""
    user: User = request.user  # type: ignore[assignment]
    changed = request.GET.get("changed", "")
    category_id = _int(request.GET.get("category"))
    service_id = _int(request.GET.get("service"))
    if changed == "category":
        service_id = None  # a new category starts at its first service
    picker = _picker(user, category_id=category_id, service_id=service_id)
    return render(request, "orders/_picker.html", _form_context(picker, None))


@login_required
@rate_limited("live")
@require_POST
def order_quote_view(request: HttpRequest) -> HttpResponse:
    """The live price: what `order_place` would charge for the form as it stands."""
    user: User = request.user  # type: ignore[assignment]
    service_id = _int(request.POST.get("service"))
    service = services_for_sale().filter(pk=service_id).first() if service_id is not None else None
    context: dict[str, object] = {"service": service, "field_errors": []}
    if service is None:
        return render(request, "orders/_quote.html", context)
    fields = raw_add_fields(request.POST, service)
    required, optional = order_field_names(service)
    field_errors: dict[str, str] = {}
    try:
        charge = order_quote(user=user, service_id=service.pk, fields=fields)
    except PlacementError as exc:
        if exc.field in (*required, *optional) and not _filled(request.POST, exc.field):
            # Not wrong yet, only not filled in: no red text while the customer types.
            context["incomplete"] = True
        elif exc.field in (*required, *optional):
            field_errors[exc.field] = error_text(exc)
            context["incomplete"] = True
        else:
            context["error"] = error_text(exc)
    else:
        context["charge"] = charge
        context["balance_after"] = user.balance - charge
        context["short"] = charge > user.balance
    # Refresh the inline error of every filled-in field (the others keep what they show).
    context["field_errors"] = [
        (name, field_errors.get(name, ""))
        for name in (*required, *optional)
        if _filled(request.POST, name)
    ]
    return render(request, "orders/_quote.html", context)


def _filled(data: QueryDict, name: str) -> bool:
    return bool(str(data.get(name, "")).strip())
