"""The orders page (filters, search, pagination, live statuses), an order, refill and cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.models import User
from orders.errors import CancelError, RefillError
from orders.models import Order, Refill
from orders.services import cancel_request, refill_request
from orders.services.refills import refill_available
from orders.states import LIVE, REFILL_OPEN, UPSTREAM_CANCELABLE
from orders.views.errors import error_text
from panel.throttle import rate_limited

ORDERS_PAGE_SIZE = 25
POLL_SECONDS = 5


def orders_for(user: User) -> QuerySet[Order]:
    """The user's orders with everything a row shows, in a constant number of queries."""
    open_refill = Refill.objects.filter(order=OuterRef("pk"), status__in=REFILL_OPEN)
    return (
        Order.objects.filter(user=user)
        .select_related("service")
        .annotate(has_open_refill=Exists(open_refill))
        .order_by("-id")
    )


def decorate(order: Order) -> Order:
    """Attach what the row's buttons need (no queries: the service is already joined)."""
    order.can_refill = refill_available(order) and not order.has_open_refill  # type: ignore[attr-defined]
    order.can_cancel = order.status == Order.Status.QUEUED or (  # type: ignore[attr-defined]
        order.service.cancel
        and order.status in UPSTREAM_CANCELABLE
        and order.cancel_status in (Order.CancelStatus.NONE, Order.CancelStatus.REJECTED)
    )
    return order


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    status = request.GET.get("status", "")
    if status not in Order.Status.values:
        status = ""
    query = request.GET.get("q", "")[:200].strip()
    orders = orders_for(user)
    if status:
        orders = orders.filter(status=status)
    if query:
        condition = Q(link__icontains=query)
        number = query.lstrip("#")
        # isascii: "²" passes isdigit() but int() refuses it.
        if number.isascii() and number.isdigit() and len(number) < 18:
            condition |= Q(pk=int(number))
        orders = orders.filter(condition)
    page = Paginator(orders, ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [decorate(order) for order in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "query": query,
        "statuses": Order.Status.choices,
        "live": any(order.status in LIVE for order in rows),
        "poll_seconds": POLL_SECONDS,
    }
    if request.headers.get("HX-Request"):
        return render(request, "orders/_orders_table.html", context)
    return render(request, "orders/order_list.html", context)


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    order = orders_for(user).filter(pk=order_id).first()
    if order is None:
        raise Http404
    refills = list(order.refills.all()[:10])
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": decorate(order),
            "refills": refills,
            "placed": request.GET.get("placed") == "1",
            "live": order.status in LIVE,
            "poll_seconds": POLL_SECONDS,
        },
    )


def _back(request: HttpRequest, order_id: int) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("order_detail", order_id=order_id)


@login_required
@rate_limited("order")
@require_POST
def order_refill(request: HttpRequest, order_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not Order.objects.filter(pk=order_id, user=user).exists():
        raise Http404
    try:
        refill_request(user=user, order_id=order_id)
    except RefillError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, gettext("Refill of order #%(id)s requested.") % {"id": order_id})
    return _back(request, order_id)


@login_required
@rate_limited("order")
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not Order.objects.filter(pk=order_id, user=user).exists():
        raise Http404
    try:
        order = cancel_request(user=user, order_id=order_id)
    except CancelError as exc:
        messages.error(request, error_text(exc))
    else:
        if order.status == Order.Status.CANCELED:
            text = gettext("Order #%(id)s was canceled and refunded.")
        else:
            text = gettext("Cancellation of order #%(id)s requested.")
        messages.success(request, text % {"id": order_id})
    return _back(request, order_id)
