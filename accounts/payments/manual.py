"""Manual payment methods: the customer pays outside the panel and reports it; staff approve
(credited once, through payment_confirm) or reject the report."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop
from PIL import Image, UnidentifiedImageError

from accounts.models import ManualMethod, Payment, User
from accounts.payments.base import PaymentError
from accounts.payments.bonus import deposit_bonus, method_fee
from accounts.payments.gateways import validate_amount
from accounts.payments.services import payment_confirm
from console.services.notify import Kind, notify

# Receipt images we keep, by the format Pillow finds in the bytes (never the name or the
# browser's content type, which the customer controls).
RECEIPT_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
MAX_RECEIPT_PIXELS = 40_000_000


def manual_methods() -> list[ManualMethod]:
    return list(ManualMethod.objects.filter(is_enabled=True))


def manual_method_get(method_id: int) -> ManualMethod | None:
    return ManualMethod.objects.filter(pk=method_id, is_enabled=True).first()


def receipt_check(receipt: UploadedFile) -> str:
    """The receipt's file extension when it really is an image of an accepted type and size;
    PaymentError otherwise."""
    if receipt.size is None or receipt.size > settings.PAYMENT_RECEIPT_MAX_BYTES:
        raise PaymentError(
            gettext_noop("The receipt is too large; the limit is %(mb)s MB."),
            mb=settings.PAYMENT_RECEIPT_MAX_BYTES // (1024 * 1024),
        )
    try:
        receipt.seek(0)
        with Image.open(receipt) as image:
            kind = image.format or ""
            if image.width * image.height > MAX_RECEIPT_PIXELS:
                raise PaymentError(gettext_noop("The receipt image is too large."))
            image.verify()  # reads the whole file: a truncated or forged image fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PaymentError(
            gettext_noop("The receipt must be an image (JPEG, PNG, WebP or GIF).")
        ) from None
    if kind not in RECEIPT_FORMATS:
        raise PaymentError(gettext_noop("The receipt must be an image (JPEG, PNG, WebP or GIF)."))
    receipt.seek(0)
    return RECEIPT_FORMATS[kind]


def manual_payment_submit(
    *,
    user: User,
    method_id: int,
    amount: Decimal | str,
    reference: str,
    receipt: UploadedFile | None = None,
) -> Payment:
    """Record a customer's report of a manual payment, pending staff review.

    Raises PaymentError (a sentence) for a disabled method, a bad amount, a missing reference
    or an unacceptable receipt; nothing is written then.
    """
    method = manual_method_get(method_id)
    if method is None:
        raise PaymentError(gettext_noop("This payment method is not available."))
    currency = settings.PANEL_CURRENCY.upper()
    value = validate_amount(
        amount,
        currency=currency,
        places=2,
        min_deposit=method.min_deposit,
        max_deposit=method.max_deposit,
    )
    reference = (reference or "").strip()
    if not reference:
        raise PaymentError(
            gettext_noop("Enter the payment reference (transaction ID or sender's name).")
        )
    if len(reference) > 200:
        raise PaymentError(gettext_noop("The reference can have at most 200 characters."))
    if receipt is None and method.receipt_required:
        raise PaymentError(gettext_noop("Attach the receipt of your payment."))
    extension = receipt_check(receipt) if receipt is not None else ""
    payment = Payment(
        user=user,
        gateway=method.code,
        method=method,
        amount=value,
        fee=method_fee(value, method.fee_percent),
        bonus=deposit_bonus(value),
        currency=currency,
        reference=reference,
    )
    with transaction.atomic():
        payment.save()
        Payment.objects.filter(pk=payment.pk).update(external_id=f"manual-{payment.pk}")
        payment.external_id = f"manual-{payment.pk}"
        if receipt is not None:
            # Our own name: the customer's file name never reaches the disk.
            name = f"{payment.pk}-{secrets.token_hex(8)}.{extension}"
            payment.receipt.save(name, receipt, save=False)
            Payment.objects.filter(pk=payment.pk).update(receipt=payment.receipt.name)
        _notify_staff(payment, method)
    return payment


def _notify_staff(payment: Payment, method: ManualMethod) -> None:
    # Why: nothing else tells staff that money may be waiting in their bank account, and the
    # customer's balance waits until someone looks. One alert per report (its own subject).
    notify(
        kind=Kind.MANUAL_PAYMENT,
        subject_key=f"payment:{payment.pk}",
        title=f"Manual payment {payment.pk}: {payment.amount:.2f} {payment.currency}",
        body=(
            f"{payment.user.email} reports paying {payment.amount:.2f} {payment.currency} by "
            f"{method.name}, reference {payment.reference!r}"
            f"{', receipt attached' if payment.receipt else ''}. Check that the money arrived, "
            "then approve the payment (the balance is credited once) or reject it."
        ),
        link=reverse("admin:accounts_manualpayment_change", args=[payment.pk]),
    )


def manual_payment_approve(*, payment_id: int, staff: User) -> bool:
    """Staff confirm the money arrived: credit the payment once. False when it was decided
    already (a second click, or another staff member first)."""
    payment = Payment.objects.filter(pk=payment_id, method__isnull=False).first()
    if payment is None:
        return False
    credited = payment_confirm(
        payment_id=payment.pk,
        gateway=payment.gateway,
        external_id=payment.external_id,
        amount=payment.payable,
        currency=payment.currency,
    )
    if credited:
        Payment.objects.filter(pk=payment.pk).update(
            reviewed_by=staff, reviewed_at=timezone.now(), note=f"Approved by {staff.email}"
        )
    return credited


def manual_payment_reject(*, payment_id: int, staff: User, reason: str = "") -> bool:
    """Staff found no such payment: reject the report; nothing is credited."""
    note = f"Rejected by {staff.email}. {reason}".strip()
    rejected = Payment.objects.filter(
        pk=payment_id, method__isnull=False, status=Payment.Status.PENDING
    ).update(
        status=Payment.Status.REJECTED,
        reviewed_by=staff,
        reviewed_at=timezone.now(),
        note=note[:255],
        updated_at=timezone.now(),
    )
    return rejected == 1
