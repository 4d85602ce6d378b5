"""Manual payment methods: the customer reports a payment (amount, reference, receipt image),
staff approve it (credited once) or reject it (nothing credited); both sides see the state."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.utils import translation
from PIL import Image

from accounts.models import DepositBonus, LedgerEntry, ManualMethod, Payment, User
from accounts.payments import (
    PaymentError,
    manual_payment_approve,
    manual_payment_reject,
    manual_payment_submit,
)
from console.models import Notification
from console.services.notify import notification_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def bank(db: None) -> ManualMethod:
    return ManualMethod.objects.create(
        name="Bank transfer",
        instructions="IBAN DE00 1234, reference: your email",
        min_deposit=Decimal("10"),
        max_deposit=Decimal("5000"),
        fee_percent=Decimal("2"),
    )


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser(email="staff@example.com", password="pw")


def png(size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return SimpleUploadedFile("receipt.png", buffer.getvalue(), content_type="image/png")


def deposits(user: User) -> list[tuple[str, Decimal]]:
    return [
        (entry.kind, entry.amount)
        for entry in LedgerEntry.objects.filter(user=user, payment__isnull=False).order_by("id")
    ]


def test_it_records_a_report_pending_review_with_fee_and_bonus(customer, bank):
    DepositBonus.objects.create(min_amount=Decimal("100"), percent=Decimal("5"))
    payment = manual_payment_submit(
        user=customer, method_id=bank.pk, amount="100.00", reference=" TX-778 ", receipt=png()
    )
    payment.refresh_from_db()
    assert (payment.gateway, payment.status, payment.reference) == (
        f"manual-{bank.pk}",
        "pending",
        "TX-778",
    )
    assert (payment.amount, payment.fee, payment.bonus, payment.payable) == (
        Decimal("100.00000"),
        Decimal("2.00000"),
        Decimal("5.00000"),
        Decimal("102.00000"),
    )
    assert payment.receipt.name.startswith("receipts/")
    assert payment.receipt.name.endswith(".png")
    assert "receipt.png" not in payment.receipt.name
    assert deposits(customer) == []


def test_a_report_alerts_the_operators_once_per_payment(customer, bank, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    first = manual_payment_submit(
        user=customer, method_id=bank.pk, amount="100.00", reference="TX-778", receipt=png()
    )
    second = manual_payment_submit(user=customer, method_id=bank.pk, amount="20", reference="TX-9")

    alerts = Notification.objects.filter(kind=Notification.Kind.MANUAL_PAYMENT).order_by("id")
    assert [(a.subject_key, a.repeats) for a in alerts] == [
        (f"payment:{first.pk}", 1),
        (f"payment:{second.pk}", 1),
    ]
    alert = alerts[0]
    assert alert.title == f"Manual payment {first.pk}: 100.00 USD"
    assert alert.body.startswith(f"{customer.email} reports paying 100.00 USD by Bank transfer")
    assert "'TX-778', receipt attached" in alert.body
    assert alert.link == f"/admin/accounts/manualpayment/{first.pk}/change/"
    assert {a.email_status for a in alerts} == {"pending"}  # sent after commit, by a worker
    assert notification_deliver(notification_id=alert.pk) is True
    assert [(m.subject, m.to) for m in mailoutbox] == [
        (f"[Upline] {alert.title}", ["ops@example.com"])
    ]


def test_a_refused_report_alerts_nobody(customer, bank):
    with pytest.raises(PaymentError):
        manual_payment_submit(user=customer, method_id=bank.pk, amount="5", reference="r")
    assert not Notification.objects.exists()


def test_approval_credits_once_with_the_bonus(customer, bank, staff):
    DepositBonus.objects.create(min_amount=Decimal("50"), percent=Decimal("10"))
    payment = manual_payment_submit(user=customer, method_id=bank.pk, amount="50", reference="r")

    assert manual_payment_approve(payment_id=payment.pk, staff=staff) is True
    assert manual_payment_approve(payment_id=payment.pk, staff=staff) is False
    assert manual_payment_reject(payment_id=payment.pk, staff=staff) is False

    payment.refresh_from_db()
    customer.refresh_from_db()
    assert (payment.status, payment.reviewed_by) == ("paid", staff)
    assert deposits(customer) == [("deposit", Decimal("50.00000")), ("bonus", Decimal("5.00000"))]
    assert customer.balance == Decimal("155.00000")


def test_rejection_credits_nothing_and_is_final(customer, bank, staff):
    payment = manual_payment_submit(user=customer, method_id=bank.pk, amount="20", reference="r")

    assert manual_payment_reject(payment_id=payment.pk, staff=staff, reason="No such transfer")
    assert manual_payment_approve(payment_id=payment.pk, staff=staff) is False

    payment.refresh_from_db()
    assert (payment.status, payment.note) == (
        "rejected",
        "Rejected by staff@example.com. No such transfer",
    )
    assert deposits(customer) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "5"}, "The minimum deposit is 10.00 USD."),
        ({"amount": "5000.01"}, "The maximum deposit is 5000.00 USD."),
        ({"amount": "12.345"}, "The amount can have at most 2 decimal places."),
        ({"amount": "abc"}, "Enter the amount as a number, e.g. 25.00."),
        ({"reference": "  "}, "Enter the payment reference (transaction ID or sender's name)."),
    ],
)
def test_it_refuses_bad_reports_without_writing(customer, bank, fields, message):
    data = {"amount": "20", "reference": "r", **fields}
    with pytest.raises(PaymentError) as error:
        manual_payment_submit(user=customer, method_id=bank.pk, **data)
    assert error.value.message == message
    assert Payment.objects.count() == 0


def test_it_refuses_a_disabled_method(customer, bank):
    bank.is_enabled = False
    bank.save()
    with pytest.raises(PaymentError, match="not available"):
        manual_payment_submit(user=customer, method_id=bank.pk, amount="20", reference="r")


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("receipt.png", b"<html><script>alert(1)</script>", "image/png"),
        SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 not an image", "application/pdf"),
        SimpleUploadedFile("receipt.png", png().read()[:40], "image/png"),  # truncated
    ],
)
def test_it_refuses_a_receipt_that_is_not_really_an_image(customer, bank, upload):
    with pytest.raises(PaymentError, match="must be an image"):
        manual_payment_submit(
            user=customer, method_id=bank.pk, amount="20", reference="r", receipt=upload
        )
    assert Payment.objects.count() == 0


def test_it_refuses_a_receipt_over_the_size_limit(customer, bank, settings):
    settings.PAYMENT_RECEIPT_MAX_BYTES = 50
    with pytest.raises(PaymentError, match="too large"):
        manual_payment_submit(
            user=customer, method_id=bank.pk, amount="20", reference="r", receipt=png()
        )


def test_a_method_can_require_a_receipt(customer, bank):
    bank.receipt_required = True
    bank.save()
    with pytest.raises(PaymentError, match="Attach the receipt"):
        manual_payment_submit(user=customer, method_id=bank.pk, amount="20", reference="r")


def test_the_customer_reports_through_the_page_and_sees_the_state(client: Client, customer, bank):
    client.force_login(customer)
    page = client.get(f"/payments/manual/{bank.pk}/")
    assert b"IBAN DE00 1234" in page.content
    response = client.post(
        f"/payments/manual/{bank.pk}/",
        {"amount": "25.00", "reference": "TX-1", "receipt": png()},
    )
    assert response.status_code == 302
    assert response["Location"] == "/funds/"
    funds = client.get("/funds/")
    assert b"Bank transfer" in funds.content
    assert b"Waiting for staff to check" in funds.content


def test_the_page_shows_the_services_sentence(client: Client, customer, bank):
    client.force_login(customer)
    response = client.post(f"/payments/manual/{bank.pk}/", {"amount": "1", "reference": "x"})
    assert response.context["form"].non_field_errors() == ["The minimum deposit is 10.00 USD."]


def test_receipts_are_served_to_the_owner_and_staff_only(
    client: Client, customer, other_user, bank, staff
):
    payment = manual_payment_submit(
        user=customer, method_id=bank.pk, amount="20", reference="r", receipt=png()
    )
    url = f"/payments/{payment.pk}/receipt/"
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    client.force_login(customer)
    mine = client.get(url)
    assert (mine.status_code, mine["Content-Type"], mine["X-Content-Type-Options"]) == (
        200,
        "image/png",
        "nosniff",
    )
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_staff_approve_from_the_review_page(client: Client, customer, bank, staff):
    payment = manual_payment_submit(user=customer, method_id=bank.pk, amount="20", reference="r")
    client.force_login(staff)
    url = f"/admin/accounts/manualpayment/{payment.pk}/change/"
    assert b'data-testid="reference" style="overflow-wrap:anywhere">r<' in client.get(url).content
    client.post(url, {"action": "approve"})
    client.post(url, {"action": "approve"})
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert deposits(customer) == [("deposit", Decimal("20.00000"))]


def test_the_sentence_is_in_the_customers_language(client: Client, customer, bank):
    customer.language = "ru"
    customer.save()
    client.force_login(customer)
    with translation.override("en"):  # the request activates Russian in this thread
        response = client.post(f"/payments/manual/{bank.pk}/", {"amount": "1", "reference": "x"})
    assert response.context["form"].non_field_errors() == ["Минимальное пополнение — 10.00 USD."]


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_credit_once(requires_postgres, customer, bank, staff):
    payment = manual_payment_submit(user=customer, method_id=bank.pk, amount="30", reference="r")
    threads = 8
    barrier = threading.Barrier(threads)

    def approve() -> bool:
        try:
            barrier.wait(timeout=10)
            return manual_payment_approve(payment_id=payment.pk, staff=staff)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda _: approve(), range(threads)))

    assert results.count(True) == 1
    assert deposits(customer) == [("deposit", Decimal("30.00000"))]
