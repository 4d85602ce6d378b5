"""Gateway-independent payment writes: confirm (credit once) and close a pending payment."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import LedgerEntry, Payment
from accounts.services import balance_credit
from referrals.services import referral_commission_credit

logger = logging.getLogger(__name__)


def payment_confirm(
    *, payment_id: int, gateway: str, external_id: str, amount: Decimal, currency: str
) -> bool:
    """The gateway confirms it received `amount` `currency` for the payment: credit it, once.

    Returns True when this call credited the balance. A replayed or late confirmation finds the
    payment no longer pending and does nothing; the ledger's unique (payment, kind) key backs
    that up. A confirmation whose amount or currency differs from what we asked for is never
    credited: the payment is failed with a note for staff.
    """
    payment = Payment.objects.select_related("user").filter(pk=payment_id, gateway=gateway).first()
    if payment is None:
        logger.warning("%s confirmed unknown payment %s (%s)", gateway, payment_id, external_id)
        return False
    if payment.external_id and payment.external_id != external_id:
        logger.error(
            "%s confirmed payment %s for %s, but it belongs to %s; ignored",
            gateway,
            payment_id,
            external_id,
            payment.external_id,
        )
        return False
    if amount != payment.amount or currency.upper() != payment.currency.upper():
        note = (
            f"Gateway confirmed {amount} {currency.upper()}, expected "
            f"{payment.amount} {payment.currency}; not credited"
        )
        logger.error("Payment %s: %s", payment_id, note)
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.FAILED, note=note[:255], updated_at=timezone.now()
        )
        return False

    with transaction.atomic():
        # The claim: only one confirmation can move the payment out of PENDING.
        claimed = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.PAID, external_id=external_id, updated_at=timezone.now()
        )
        if claimed != 1:
            return False
        reason = f"{gateway} payment {external_id}"
        balance_credit(
            user=payment.user,
            amount=payment.amount,
            kind=LedgerEntry.Kind.DEPOSIT,
            payment=payment,
            reason=reason,
        )
        if payment.bonus > 0:
            balance_credit(
                user=payment.user,
                amount=payment.bonus,
                kind=LedgerEntry.Kind.BONUS,
                payment=payment,
                reason=f"Deposit bonus for {reason}",
            )
        # The referrer's commission commits (or rolls back) with the deposit it comes from.
        referral_commission_credit(payment=payment)
    return True


def payment_close(
    *, payment_id: int, gateway: str, external_id: str, status: str, note: str = ""
) -> bool:
    """Mark a pending payment expired or failed. A paid payment is never reopened or closed."""
    if status not in (Payment.Status.EXPIRED, Payment.Status.FAILED):
        raise ValueError(f"Cannot close a payment as {status!r}")
    closed = (
        Payment.objects.filter(pk=payment_id, gateway=gateway, status=Payment.Status.PENDING)
        .filter(external_id__in=["", external_id])
        .update(status=status, note=note[:255], updated_at=timezone.now())
    )
    return closed == 1
