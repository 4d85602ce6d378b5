"""Customer pages of the account: dashboard, add funds, transactions, API key, profile.

Thin adapters: parse the request, call a service or selector, render.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import check_for_language, gettext
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from accounts import payments
from accounts.api_docs import api_actions, api_examples
from accounts.forms import AddFundsForm, ProfileForm
from accounts.models import ApiKey, LedgerEntry, User
from accounts.selectors import ledger_entries_for, payments_for
from accounts.services import api_key_revoke, api_key_rotate
from orders.models import Order
from panel.money import ZERO
from panel.smmapi.protocol import TYPE_SPECS
from panel.throttle import rate_limited

PAGE_SIZE = 25
RECENT_ORDERS = 8


def paginate(request: HttpRequest, items: object, per_page: int = PAGE_SIZE) -> Page:
    """One page of `items`; a bad or out-of-range ?page= shows the nearest page, never a 404."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))  # type: ignore[arg-type]


def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: the landing page for visitors, the dashboard for customers."""
    if not request.user.is_authenticated:
        return render(
            request, "landing.html", {"public_prices": settings.CATALOG_PUBLIC_PRICE_LIST}
        )
    user: User = request.user  # type: ignore[assignment]
    totals = LedgerEntry.objects.filter(user=user).aggregate(
        charged=Sum(
            "amount",
            filter=Q(
                kind__in=[LedgerEntry.Kind.ORDER_CHARGE, LedgerEntry.Kind.SUBSCRIPTION_CHARGE]
            ),
        ),
        refunded=Sum("amount", filter=Q(kind=LedgerEntry.Kind.REFUND)),
        # Funds added: deposits, their bonuses and credits made by staff.
        deposited=Sum(
            "amount",
            filter=Q(kind__in=[LedgerEntry.Kind.DEPOSIT, LedgerEntry.Kind.BONUS])
            | Q(kind=LedgerEntry.Kind.ADJUSTMENT, amount__gt=0),
        ),
    )
    spent = -(totals["charged"] or ZERO) - (totals["refunded"] or ZERO)
    labels = dict(Order.Status.choices)
    by_status = [
        {"status": row["status"], "label": labels.get(row["status"], row["status"]), "n": row["n"]}
        for row in Order.objects.filter(user=user)
        .values("status")
        .annotate(n=Count("id"))
        .order_by("status")
    ]
    recent = (
        Order.objects.filter(user=user).select_related("service").order_by("-id")[:RECENT_ORDERS]
    )
    return render(
        request,
        "accounts/dashboard.html",
        {
            "spent": spent,
            "deposited": totals["deposited"] or ZERO,
            "by_status": by_status,
            "orders_total": sum(row["n"] for row in by_status),
            "recent_orders": recent,
        },
    )


@login_required
@rate_limited("payment")
def add_funds(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    gateways = payments.enabled_gateways()
    form = AddFundsForm(
        request.POST or None, gateways=[(gateway.code, gateway.name) for gateway in gateways]
    )
    if request.method == "POST" and form.is_valid():
        try:
            url = payments.payment_start(
                user=user,
                gateway=form.cleaned_data["gateway"],
                amount=Decimal(form.cleaned_data["amount"]),
                base_url=request.build_absolute_uri("/"),
            )
        except payments.PaymentError as exc:
            form.add_error("amount", exc.text())
        else:
            return redirect(url)
    return render(
        request,
        "accounts/add_funds.html",
        {
            "form": form,
            "gateways": gateways,
            "manual_methods": payments.manual_methods(),
            "bonus_rules": payments.bonus_rules(),
            "payments": paginate(request, payments_for(user=user), per_page=10),
        },
    )


@login_required
def transactions(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    kind = request.GET.get("kind", "")
    if kind not in LedgerEntry.Kind.values:
        kind = ""
    entries = ledger_entries_for(user=user, kind=kind or None)
    return render(
        request,
        "accounts/transactions.html",
        {"page": paginate(request, entries), "kind": kind, "kinds": LedgerEntry.Kind.choices},
    )


def _api_context(request: HttpRequest, *, raw_key: str | None = None) -> dict[str, object]:
    user: User = request.user  # type: ignore[assignment]
    api_url = request.build_absolute_uri("/api/v2")
    key_for_examples = raw_key or "YOUR_API_KEY"
    return {
        "api_key": ApiKey.objects.filter(user=user).first(),
        "raw_key": raw_key,
        "api_url": api_url,
        "actions": api_actions(),
        "examples": api_examples(api_url=api_url, key=key_for_examples),
        "rest_url": request.build_absolute_uri("/api/v1/"),
        "type_fields": [
            (service_type.value, spec.fields, spec.optional)
            for service_type, spec in TYPE_SPECS.items()
        ],
    }


@login_required
def api_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/api.html", _api_context(request))


@login_required
@rate_limited("api_key")
@require_POST
def api_key_rotate_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    raw_key = api_key_rotate(user=user)
    # Rendered, not redirected: the raw key must never sit in a session or a URL.
    response = render(request, "accounts/api.html", _api_context(request, raw_key=raw_key))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    api_key_revoke(user=user)
    messages.success(request, gettext("Your API key was revoked. Tools using it stop working."))
    return redirect("api_page")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        response = redirect("profile")
        language = form.cleaned_data["language"]
        if language:
            # The cookie makes the choice stick after signing out on this device too.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
            translation.activate(language)
        messages.success(request, gettext("Your profile was saved."))
        return response
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the language; a signed-in customer's choice is also saved on their profile."""
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and check_for_language(language)
        and language in dict(settings.LANGUAGES)
    ):
        User.objects.filter(pk=request.user.pk).update(language=language)
        request.user.language = language
    return set_language(request)
