"""HTTP adapters for payments: gateway webhooks and the pages customers return to."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Payment, User
from accounts.payments.base import GatewayUnavailable, InvalidCallback, PaymentError
from accounts.payments.forms import ManualPaymentForm
from accounts.payments.gateways import gateway_get
from accounts.payments.manual import manual_method_get, manual_payment_submit
from accounts.payments.nowpayments import nowpayments_ipn_handle, nowpayments_ipn_parse
from accounts.payments.paypal import paypal_event_handle, paypal_webhook_parse
from accounts.payments.stripe_checkout import stripe_event_handle, stripe_webhook_parse
from accounts.selectors import payment_get
from panel.throttle import rate_limited

logger = logging.getLogger(__name__)

# Where customers land after the gateway: the "Add funds" page (helper "web"), else home.
RETURN_URL_NAME = "add_funds"


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_webhook_parse(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except InvalidCallback as exc:
        logger.warning("Rejected a Stripe webhook: %s", exc)
        return HttpResponse("Invalid webhook signature or payload.", status=400)
    stripe_event_handle(event=event)
    return HttpResponse("OK")


@csrf_exempt
@require_POST
def nowpayments_ipn(request: HttpRequest) -> HttpResponse:
    try:
        body = nowpayments_ipn_parse(
            payload=request.body, signature=request.headers.get("x-nowpayments-sig")
        )
    except InvalidCallback as exc:
        logger.warning("Rejected a NOWPayments IPN: %s", exc)
        return HttpResponse("Invalid signature or payload.", status=400)
    nowpayments_ipn_handle(body=body)
    return HttpResponse("OK")


@csrf_exempt
@require_POST
def paypal_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = paypal_webhook_parse(payload=request.body, headers=request.headers)
    except InvalidCallback as exc:
        logger.warning("Rejected a PayPal webhook: %s", exc)
        return HttpResponse("Invalid signature or payload.", status=400)
    except GatewayUnavailable as exc:
        # Not verified yet: a 5xx makes PayPal deliver it again later.
        logger.warning("Could not verify a PayPal webhook: %s", exc)
        return HttpResponse("Verification unavailable; try again.", status=503)
    paypal_event_handle(event=event)
    return HttpResponse("OK")


@login_required
@rate_limited("payment")
def manual_payment(request: HttpRequest, method_id: int) -> HttpResponse:
    """A manual method's instructions and the form reporting a payment made through it."""
    user: User = request.user  # type: ignore[assignment]
    method = manual_method_get(method_id)
    if method is None:
        raise Http404
    form = ManualPaymentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            manual_payment_submit(
                user=user,
                method_id=method.pk,
                amount=form.cleaned_data["amount"],
                reference=form.cleaned_data["reference"],
                receipt=form.cleaned_data["receipt"],
            )
        except PaymentError as exc:
            form.add_error(None, exc.text())
        else:
            messages.success(
                request,
                _(
                    "Thank you! We will check your payment and add it to your balance; "
                    "you can follow it in the payment history below."
                ),
            )
            return HttpResponseRedirect(reverse(RETURN_URL_NAME))
    return render(request, "accounts/manual_payment.html", {"method": method, "form": form})


@login_required
@require_GET
def payment_receipt(request: HttpRequest, payment_id: int) -> HttpResponseBase:
    """The receipt image of a manual payment, to its owner and to staff who may view payments."""
    user: User = request.user  # type: ignore[assignment]
    if user.has_perm("accounts.view_payment") or user.has_perm("accounts.view_manualpayment"):
        payment = Payment.objects.filter(pk=payment_id).first()
    else:
        payment = payment_get(user=user, payment_id=payment_id)
    if payment is None or not payment.receipt:
        raise Http404
    extension = (payment.receipt.name or "").rsplit(".", 1)[-1].lower()
    content_type = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(
        extension, "image/gif"
    )
    response = FileResponse(payment.receipt.open("rb"), content_type=content_type)
    # Never rendered as anything but the image type we checked on upload, never cached.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def payment_return(request: HttpRequest, payment_id: int, outcome: str) -> HttpResponse:
    # Why: returning here proves nothing (anyone can open the URL); only the gateway's signed
    # callback, or our own server-to-server capture (PayPal), credits the balance.
    payment = payment_get(user=request.user, payment_id=payment_id)  # type: ignore[arg-type]
    if payment is None or outcome not in ("success", "cancel"):
        raise Http404
    gateway = gateway_get(payment.gateway)
    if outcome == "success" and gateway is not None:
        gateway.customer_returned(payment=payment)
        payment.refresh_from_db()
    if outcome == "success" and payment.status == Payment.Status.PAID:
        messages.success(
            request,
            _("Thank you! %(amount)s %(currency)s were added to your balance.")
            % {"amount": f"{payment.amount + payment.bonus:.2f}", "currency": payment.currency},
        )
    elif outcome == "success":
        messages.success(
            request,
            _(
                "Thank you! Your payment of %(amount)s %(currency)s is being confirmed; "
                "your balance updates as soon as the payment provider confirms it."
            )
            % {"amount": f"{payment.amount:.2f}", "currency": payment.currency},
        )
    else:
        messages.info(request, _("The payment was canceled; nothing was charged."))
    try:
        target = reverse(RETURN_URL_NAME)
    except NoReverseMatch:
        target = "/"
    return HttpResponseRedirect(target)
