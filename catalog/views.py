"""The services page (every service for sale, with the visitor's own prices) and the Updates
page (what changed in the catalogue)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog.pricing import user_rates
from catalog.selectors import (
    FEATURES,
    catalogue_updates,
    categories_for_sale,
    search_services,
    services_for_sale,
    services_with_features,
)

PRICE_LIST_PAGE_SIZE = 100
UPDATES_SHOWN = 200


def price_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated and not settings.CATALOG_PUBLIC_PRICE_LIST:
        return redirect_to_login(request.get_full_path())
    query = request.GET.get("q", "")[:100]
    category_id = request.GET.get("category", "")
    features = [name for name in request.GET.getlist("feature") if name in FEATURES]
    services = services_with_features(search_services(services_for_sale(), query), features)
    if category_id.isascii() and category_id.isdigit() and len(category_id) < 18:
        services = services.filter(category_id=int(category_id))
    ordered = services.order_by("category__sort_order", "category__name", "id")
    # Why ids first: sorting 10,000 full joined rows to keep 100 costs more than the rest of
    # the page; sorting narrow id rows, then loading the 100, does not.
    page = Paginator(ordered.values_list("pk", flat=True), PRICE_LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    by_id = {service.pk: service for service in services_for_sale().filter(pk__in=ids)}
    rows = [by_id[pk] for pk in ids if pk in by_id]
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
        "features": features,
    }
    template = (
        "catalog/_price_rows.html"
        if request.headers.get("HX-Request")
        else "catalog/price_list.html"
    )
    return render(request, template, context)


def catalogue_updates_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated and not settings.CATALOG_PUBLIC_PRICE_LIST:
        return redirect_to_login(request.get_full_path())
    # Rates here are the public ones at the time of the change (the page is about the
    # catalogue, not one customer's prices).
    updates = list(catalogue_updates(limit=UPDATES_SHOWN))
    return render(request, "catalog/updates.html", {"updates": updates})
