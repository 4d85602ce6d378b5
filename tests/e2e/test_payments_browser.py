"""Adding funds in a real browser, in English and Russian: a manual method staff approve, and
a crypto invoice (NOWPayments faked at the HTTP layer) paid by a signed callback, credited once.
Screenshots at desktop and phone sizes land in var/screenshots/H4/."""

import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from django.conf import settings
from django.test import Client
from PIL import Image

from accounts.models import LedgerEntry, ManualMethod, Payment, User
from tests.e2e.conftest import SCREENSHOTS

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1366, 768), "wide": (1920, 1080), "phone": (375, 812)}
SHOTS = SCREENSHOTS / "H4"
# The elements sticking out past the right edge of the screen (for a failing assertion).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 10)
  .map(el => el.tagName + '.' + el.className + ' ' + el.getBoundingClientRect().right)"""
TEXT = {
    "en": {"paid": "Paid", "pending": "Pending", "approve": "Approve and credit"},
    "ru": {"paid": "Оплачен", "pending": "Ожидает", "approve": "Одобрить и зачислить"},
}
NP_API = "https://api-sandbox.nowpayments.io/v1"
NP_SECRET = "e2e-ipn-secret"


def signed_in(browser: Any, base: str, user: User, size: str = "desktop") -> Any:
    """A browser context whose session belongs to `user` (no login form to drive)."""
    client = Client()
    client.force_login(user)
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    return context


def shoot(browser: Any, base: str, user: User, path: str, name: str) -> None:
    """Screenshots of `path` at every size; on a phone nothing may stick out sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        context = signed_in(browser, base, user, size)
        page = context.new_page()
        page.goto(base + path)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        if size == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES["phone"][0], page.evaluate(OVERFLOWING)
        context.close()


def a_customer(email: str, language: str) -> User:
    return User.objects.create_user(email=email, password="pw-e2e-long-enough", language=language)


def a_staff_member(language: str) -> User:
    return User.objects.create_superuser(
        email="staff@example.com", password="pw-e2e-long-enough", language=language
    )


def credits(user: User) -> list[tuple[str, Decimal]]:
    return [
        (e.kind, e.amount)
        for e in LedgerEntry.objects.filter(user=user, payment__isnull=False).order_by("id")
    ]


def receipt_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (230, 240, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_customer_pays_with_a_manual_method_and_staff_approve_it(
    live_server: Any, browser: Any, language: str, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    text = TEXT[language]
    customer = a_customer(f"payer-{language}@example.com", language)
    staff = a_staff_member(language)
    bank = ManualMethod.objects.create(
        name="Bank transfer",
        instructions="IBAN DE89 3704 0044 0532 0130 00\nReference: your account email",
        min_deposit=Decimal("10"),
        max_deposit=Decimal("5000"),
        fee_percent=Decimal("1"),
    )

    context = signed_in(browser, base, customer)
    page = context.new_page()
    page.goto(base + "/funds/")
    expect(page.get_by_test_id("support-link")).to_be_visible()
    page.get_by_test_id("manual-method").click()
    expect(page.get_by_test_id("instructions")).to_contain_text("IBAN DE89")
    page.fill("#id_amount", "5")
    page.fill("#id_reference", "SEPA 2026-12-01 J. Doe")
    page.locator("main form button.btn-primary").click()
    expect(page.locator(".alert-error")).to_be_visible()  # below the minimum, in a sentence
    page.fill("#id_amount", "50")
    page.set_input_files(
        "#id_receipt", files=[{"name": "r.png", "mimeType": "image/png", "buffer": receipt_png()}]
    )
    page.locator("main form button.btn-primary").click()
    page.wait_for_url(base + "/funds/")
    expect(page.get_by_test_id("payment-status").first).to_contain_text(text["pending"])
    payment = Payment.objects.get(user=customer)
    assert (payment.amount, payment.fee, payment.status) == (
        Decimal("50.00000"),
        Decimal("0.50000"),
        "pending",
    )
    shoot(browser, base, customer, "/funds/", f"{language}-funds-pending")
    shoot(browser, base, customer, f"/payments/manual/{bank.pk}/", f"{language}-manual-method")

    staff_context = signed_in(browser, base, staff)
    admin = staff_context.new_page()
    admin.goto(base + "/admin/accounts/manualpayment/?review=pending")
    admin.get_by_role("link", name=str(payment.pk), exact=True).click()
    expect(admin.get_by_test_id("reference")).to_have_text("SEPA 2026-12-01 J. Doe")
    expect(admin.locator("img[alt]").last).to_be_visible()  # the receipt
    admin.screenshot(path=str(SHOTS / f"{language}-admin-manual-review.png"), full_page=True)
    # A second tab opened before the approval submits it again: nothing more is credited.
    stale = staff_context.new_page()
    stale.goto(admin.url)
    admin.get_by_role("button", name=text["approve"]).click()
    expect(admin.get_by_test_id("payment-status")).to_contain_text(text["paid"])
    stale.get_by_role("button", name=text["approve"]).click()
    expect(stale.get_by_test_id("payment-status")).to_contain_text(text["paid"])
    staff_context.close()

    page.reload()
    expect(page.get_by_test_id("payment-status").first).to_contain_text(text["paid"])
    expect(page.locator("#balance")).to_contain_text("50")
    customer.refresh_from_db()
    assert customer.balance == Decimal("50.00000")
    assert credits(customer) == [("deposit", Decimal("50.00000"))]
    shoot(browser, base, customer, "/funds/", f"{language}-funds-paid")
    context.close()


@pytest.fixture
def nowpayments(settings: Any) -> Iterator[respx.MockRouter]:
    settings.NOWPAYMENTS_API_KEY = "np-key"
    settings.NOWPAYMENTS_IPN_SECRET = NP_SECRET
    settings.NOWPAYMENTS_API_URL = NP_API
    settings.NOWPAYMENTS_MIN_DEPOSIT = Decimal("10")
    settings.NOWPAYMENTS_MAX_DEPOSIT = Decimal("1000")
    settings.NOWPAYMENTS_FEE_PERCENT = Decimal("0")
    # Only NOWPayments goes through respx; the browser's requests to the live server pass.
    with respx.mock(assert_all_called=False, assert_all_mocked=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.route(host="localhost").pass_through()
        router.post(f"{NP_API}/invoice").mock(
            return_value=httpx.Response(
                200,
                json={
                    "id": "6022719451",
                    "invoice_url": "https://nowpayments.io/payment/?iid=6022719451",
                },
            )
        )
        yield router


def signed_ipn(payment: Payment, status: str) -> tuple[str, str]:
    body = {
        "payment_id": 4409701815,
        "invoice_id": 6022719451,
        "payment_status": status,
        "pay_address": "TXyz",
        "price_amount": float(payment.payable),
        "price_currency": "usd",
        "pay_amount": 25.1,
        "actually_paid": 25.1 if status == "finished" else 0,
        "pay_currency": "usdttrc20",
        "order_id": str(payment.pk),
        "order_description": "top-up",
        "outcome_amount": 24.9,
        "outcome_currency": "usdttrc20",
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    signature = hmac.new(NP_SECRET.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return json.dumps(body), signature


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_crypto_invoice_paid_by_a_faked_callback_credits_once(
    live_server: Any, browser: Any, language: str, nowpayments: respx.MockRouter
) -> None:
    base = live_server.url
    text = TEXT[language]
    customer = a_customer(f"crypto-{language}@example.com", language)
    context = signed_in(browser, base, customer)
    page = context.new_page()
    # The hosted invoice page, as the browser would see it at NOWPayments.
    page.route(
        "https://nowpayments.io/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<h1>NOWPayments invoice</h1>"
        ),
    )
    page.goto(base + "/funds/")
    page.select_option("#id_gateway", "nowpayments")
    page.fill("#id_amount", "25")
    page.locator("main form button.btn-primary").click()
    page.wait_for_url("https://nowpayments.io/payment/?iid=6022719451")
    payment = Payment.objects.get(user=customer)

    ipn = Client()
    for status in ("waiting", "confirming", "finished", "finished"):
        body, signature = signed_ipn(payment, status)
        response = ipn.post(
            "/payments/nowpayments/ipn/",
            data=body,
            content_type="application/json",
            headers={"x-nowpayments-sig": signature},
        )
        assert response.status_code == 200
    forged, _ = signed_ipn(payment, "finished")
    assert (
        ipn.post(
            "/payments/nowpayments/ipn/",
            data=forged,
            content_type="application/json",
            headers={"x-nowpayments-sig": "0" * 128},
        ).status_code
        == 400
    )

    page.goto(base + f"/payments/{payment.pk}/return/success/")
    page.wait_for_url(base + "/funds/")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("payment-status").first).to_contain_text(text["paid"])
    customer.refresh_from_db()
    assert customer.balance == Decimal("25.00000")
    assert credits(customer) == [("deposit", Decimal("25.00000"))]
    page.screenshot(path=str(SHOTS / f"{language}-crypto-paid.png"), full_page=True)
    context.close()
