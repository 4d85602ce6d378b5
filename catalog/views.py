"""The price list: every service for sale, with the visitor's own prices."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.models import Service
from catalog.pricing import user_rates
from catalog.selectors import categories_for_sale, services_for_sale

PRICE_LIST_PAGE_SIZE = 100


def search_services(queryset: QuerySet[Service], query: str) -> QuerySet[Service]:
    """Services whose id equals the query or whose name or category contains it."""
    query = query.strip()
    if not query:
        return queryset
    condition = Q(name__icontains=query) | Q(category__name__icontains=query)
    # isascii: "²" passes isdigit() but int() refuses it; the length keeps it in a bigint.
    if query.isascii() and query.isdigit() and len(query) < 18:
        condition |= Q(pk=int(query))
    return queryset.filter(condition)


def price_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated and not settings.CATALOG_PUBLIC_PRICE_LIST:
        return redirect_to_login(request.get_full_path())
    query = request.GET.get("q", "")[:100]
    category_id = request.GET.get("category", "")
    services = search_services(services_for_sale(), query)
    if category_id.isascii() and category_id.isdigit() and len(category_id) < 18:
        services = services.filter(category_id=int(category_id))
    services = services.order_by("category__sort_order", "category__name", "id")
    page = Paginator(services, PRICE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    rates = user_rates(user=request.user, services=rows)
    for service in rows:
        service.user_rate = rates[service.pk]  # type: ignore[attr-defined]
    categories = categories_for_sale().only("id", "name")
    context = {
        "page": page,
        "rows": rows,
        "query": query,
        "category_id": category_id,
        "categories": categories,
    }
    template = (
        "catalog/_price_rows.html"
        if request.headers.get("HX-Request")
        else "catalog/price_list.html"
    )
    return render(request, template, context)
