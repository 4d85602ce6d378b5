"""Every customer page at 1366×768, 1920×1080 and a 375 px phone, in English and Russian:
nothing sticks out sideways, tables keep status and buttons in view, no English on Russian
pages. The screenshots land in var/screenshots/layout/ to be looked at."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import funds_adjust
from catalog.models import Service, ServiceUpdate
from orders.models import Order
from pages.models import Page
from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unusual passphrase 42"
SIZES = {"1366": (1366, 768), "1920": (1920, 1080), "phone": (375, 812)}
PAGES = [
    ("/", "dashboard"),
    ("/orders/", "orders"),
    ("/orders/new/", "new-order"),
    ("/orders/mass/", "mass-order"),
    ("/services/", "services"),
    ("/updates/", "updates"),
    ("/funds/", "add-funds"),
    ("/transactions/", "transactions"),
    ("/api-access/", "api"),
    ("/referrals/", "referrals"),
    ("/account/", "account"),
    ("/faq/", "faq"),
]
# Nothing wider than the screen, and every table as wide as its box.
FITS = """() => document.documentElement.scrollWidth <= window.innerWidth
  && [...document.querySelectorAll('.table-wrap')]
    .every(el => el.scrollWidth <= el.clientWidth + 1)"""
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8).map(el => el.tagName + '.' + el.className)"""
# Words that would betray an untranslated string on a Russian page.
ENGLISH = [
    "Orders",
    "Status",
    "Refill",
    "Cancel",
    "Balance",
    "Service",
    "Quantity",
    "lines",
    "Updates",
]


@pytest.fixture
def shop(admin_user: User) -> User:
    provider = ProviderFactory()
    category = CategoryFactory(name="Instagram Followers")
    services = [
        ServiceFactory(
            provider=provider,
            category=category,
            name=f"Instagram Followers Real HQ {n} [Refill 30d] [Max 50K] - Fast start",
            description="Real-looking followers.\nStart: 0-1 hour.",
            refill=True,
            cancel=True,
            dripfeed=n % 2 == 0,
            is_enabled=True,
            rate=Decimal("1.37268"),
            completion_seconds_per_1000=5400 if n == 1 else None,
        )
        for n in range(1, 4)
    ]
    customer = User.objects.create_user(email="layout@example.com", password=PASSWORD)
    funds_adjust(user=customer, amount=Decimal("37.26806"), reason="E2E", staff=admin_user)
    statuses = [
        Order.Status.COMPLETED,
        Order.Status.IN_PROGRESS,
        Order.Status.PARTIAL,
        Order.Status.NEEDS_REVIEW,
        Order.Status.CANCELED,
    ]
    for n, status in enumerate(statuses):
        service = services[n % len(services)]
        Order.objects.create(
            user=customer,
            service=service,
            provider=provider,
            upstream_service_id=service.upstream_id,
            type=service.type,
            link=f"https://www.instagram.com/a_rather_long_profile_name_number_{n}/?igshid=abcdef",
            quantity=100,
            runs=3 if n == 1 else None,
            interval=10 if n == 1 else None,
            rate=service.rate,
            charge=Decimal("0.41180"),
            status=status,
            start_count=12345,
            remains=300 if n == 1 else 0,
            upstream_order_id=str(9000 + n),
        )
    now = timezone.now()
    ServiceUpdate.objects.create(service=services[0], kind="added", created_at=now)
    ServiceUpdate.objects.create(
        service=services[1],
        kind="rate_up",
        old_rate=Decimal("1.2"),
        new_rate=Decimal("1.37268"),
        created_at=now,
    )
    Page.objects.create(
        kind="faq",
        title="FAQ",
        body="How fast?\n\nMinutes.",
        title_ru="Вопросы",
        body_ru="Как быстро?\n\nЗа минуты.",
    )
    assert Service.objects.filter(is_enabled=True).count() == 3
    return customer


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_customer_page_fits_each_screen(
    live_server: object, browser: object, screenshot: object, shop: User, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    for size, (width, height) in SIZES.items():
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height},
            locale="ru-RU" if language == "ru" else "en-US",
            is_mobile=size == "phone",
        )
        page = context.new_page()
        page.goto(base + "/accounts/login/")
        page.fill("input[name=login]", shop.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(base + "/")
        drip = Order.objects.filter(user=shop, runs__isnull=False).get()
        for path, name in [*PAGES, (f"/orders/{drip.pk}/", "order-detail")]:
            response = page.goto(base + path)
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("lang", language)
            screenshot(page, f"layout/{language}-{size}-{name}")  # type: ignore[operator]
            assert page.evaluate(FITS), (path, size, page.evaluate(OVERFLOWING))
            if path == "/orders/":
                # Status and buttons are on screen without scrolling sideways.
                for locator in (
                    page.locator("[data-status] .badge").first,
                    page.locator("[data-status] .btn").first,
                ):
                    box = locator.bounding_box()
                    assert box is not None
                    assert box["x"] + box["width"] <= width, (size, box)
            if language == "ru":
                text = page.locator("main").inner_text()
                leaked = [w for w in ENGLISH if f" {w} " in f" {text} "]
                assert not leaked, (path, leaked)
        context.close()
