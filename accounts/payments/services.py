"""Gateway-independent payment writes: confirm (credit once) and close a pending payment."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import LedgerEntry, Payment
from accounts.services import balance_credit
from panel.money import money, refund_amount
from referrals.services import referral_commission_credit

logger = logging.getLogger(__name__)


def payment_confirm(
    *, payment_id: int, gateway: str, external_id: str, amount: Decimal, currency: str
) -> bool:
    """The gateway (or staff, for a manual method) confirms it received `amount` `currency`
    for the payment: credit it, once. The single place a deposit is credited.

    `amount` is what the customer paid: the payment's `payable` (amount + fee). The balance is
    credited the payment's `amount` and its `bonus`. Returns True when this call credited the
    balance. A replayed or late confirmation finds the payment no longer pending and does
    nothing; the ledger's unique (payment, kind) key backs that up. A confirmation whose amount
    or currency differs from what we asked for is never credited: the payment is failed with a
    note for staff.
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
    if amount != payment.payable or currency.upper() != payment.currency.upper():
        note = (
            f"Gateway confirmed {amount} {currency.upper()}, expected "
            f"{payment.payable} {payment.currency}; not credited"
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


def payment_reprice(*, payment_id: int, gateway: str, amount: Decimal, note: str) -> bool:
    """Lower a pending payment to what actually arrived (an under-paid crypto invoice), before
    it is confirmed: the amount, fee and bonus are recomputed for `amount` paid in total.
    Returns False when the payment is no longer pending (it was settled meanwhile)."""
    from accounts.payments.bonus import deposit_bonus

    payment = Payment.objects.filter(pk=payment_id, gateway=gateway).first()
    if payment is None or payment.status != Payment.Status.PENDING or payment.payable <= 0:
        return False
    # Split what arrived between credit and fee in the proportion the payment was priced at.
    credited = refund_amount(amount * payment.amount / payment.payable)
    fee = money(amount - credited)
    updated = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        amount=credited,
        fee=fee,
        bonus=deposit_bonus(credited),
        note=note[:255],
        updated_at=timezone.now(),
    )
    return updated == 1


def payment_note(*, payment_id: int, note: str) -> None:
    """Record a remark for staff on a payment (e.g. an over-payment that was not credited)."""
    Payment.objects.filter(pk=payment_id).update(note=note[:255], updated_at=timezone.now())
