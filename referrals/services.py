"""Writes of the referral programme. Visits and sign-ups are counted only for new accounts;
commissions are credited through the ledger, once per deposit, inside the deposit's
transaction."""

from __future__ import annotations

import logging
import secrets
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import LedgerEntry, Payment, User
from accounts.services import balance_credit
from panel.money import money
from referrals.models import Commission, Programme, Referral, ReferralCode

logger = logging.getLogger("referrals")

CODE_BYTES = 6  # 8 URL-safe characters


def programme_get() -> Programme:
    """The programme's rules (the row is created with the defaults the first time)."""
    programme = Programme.objects.order_by("pk").first()
    return programme or Programme.objects.create()


def referral_code_for(*, user: User) -> ReferralCode:
    """The user's referral code, created on first use."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(
                    user=user, code=secrets.token_urlsafe(CODE_BYTES)
                )
        except IntegrityError:
            # Either another request created this user's code, or the random code is taken.
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not allocate a referral code")


def referral_visit(*, code: str, visitor: User | None) -> ReferralCode | None:
    """Count a visit of a referral link; the code to remember for the sign-up, or None.

    A signed-in visitor is an existing account (their own link or someone else's): not counted,
    nothing to remember.
    """
    if visitor is not None or not programme_get().is_enabled:
        return None
    referral_code = ReferralCode.objects.filter(code=code).first()
    if referral_code is None:
        return None
    ReferralCode.objects.filter(pk=referral_code.pk).update(visits=F("visits") + 1)
    return referral_code


def referral_attach(*, user: User, code: str) -> Referral | None:
    """Record that `user`, who has just signed up, came through the link `code`.

    Refused (None) when the programme is off, the code is unknown, it is the user's own, or the
    account already has a referrer.
    """
    if not code or not programme_get().is_enabled:
        return None
    referrer_id = ReferralCode.objects.filter(code=code).values_list("user_id", flat=True).first()
    if referrer_id is None or referrer_id == user.pk:
        return None
    try:
        with transaction.atomic():
            return Referral.objects.create(referrer_id=referrer_id, referred=user)
    except IntegrityError:
        return None  # already referred: the first referrer keeps it


def referral_commission_credit(*, payment: Payment) -> Commission | None:
    """Credit the referrer's commission on a confirmed deposit, once.

    Call it inside the transaction that credits the deposit (accounts.payments.services
    .payment_confirm), so the deposit and the commission commit or roll back together. The
    commission rounds down: the panel never pays out more than the percentage.
    """
    programme = programme_get()
    if not programme.is_enabled or programme.commission_percent <= 0:
        return None
    referral = (
        Referral.objects.select_related("referrer").filter(referred_id=payment.user_id).first()
    )
    if referral is None:
        return None
    amount = money(
        payment.amount * programme.commission_percent / Decimal(100), rounding=ROUND_DOWN
    )
    if amount <= 0:
        return None
    with transaction.atomic():
        # The payment's one-to-one key and the ledger's (payment, kind) key both make a second
        # credit for the same deposit fail before anything is written.
        commission = Commission.objects.create(
            referral=referral,
            payment=payment,
            deposit=payment.amount,
            percent=programme.commission_percent,
            amount=amount,
        )
        balance_credit(
            user=referral.referrer,
            amount=amount,
            kind=LedgerEntry.Kind.REFERRAL,
            payment=payment,
            reason=f"Referral commission: {programme.commission_percent}% of deposit #{payment.pk}",
        )
    logger.info("Referral commission %s for payment %s", amount, payment.pk)
    return commission
