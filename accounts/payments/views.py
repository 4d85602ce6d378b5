"""HTTP adapters for payments: gateway webhooks and the pages customers return to."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.payments.stripe_checkout import (
    InvalidWebhook,
    stripe_event_handle,
    stripe_webhook_parse,
)
from accounts.selectors import payment_get

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
    except InvalidWebhook as exc:
        logger.warning("Rejected a Stripe webhook: %s", exc)
        return HttpResponse("Invalid webhook signature or payload.", status=400)
    stripe_event_handle(event=event)
    return HttpResponse("OK")


@login_required
@require_GET
def payment_return(request: HttpRequest, payment_id: int, outcome: str) -> HttpResponse:
    # Why: returning here proves nothing (anyone can open the URL); only the signed webhook
    # credits the balance. This page only tells the customer what happens next.
    payment = payment_get(user=request.user, payment_id=payment_id)  # type: ignore[arg-type]
    if payment is None or outcome not in ("success", "cancel"):
        raise Http404
    if outcome == "success":
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
