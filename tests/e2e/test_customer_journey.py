"""A customer's whole journey in a real browser, against the provider simulator.

Sign up → staff credits funds → a Default and a drip-feed order → forwarded and synced until
Completed (the simulator's clock is driven, not waited for) → refill; mass order with a bad
line; language switch; a phone-sized screen. Screenshots land in var/screenshots/.
"""

import datetime as dt
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from accounts.models import Payment, User
from accounts.payments.services import payment_confirm
from accounts.services import funds_adjust
from catalog.models import Provider, Service
from catalog.services import provider_create, provider_sync_catalogue, services_set_enabled
from orders.models import Order, Refill
from orders.services.forwarding import order_forward
from orders.services.refill_forwarding import refill_forward
from orders.services.status_sync import orders_sync_statuses
from orders.views import listing
from pages.models import Page
from referrals.models import Programme, Referral
from referrals.services import referral_code_for
from simulator import Simulator, run_simulator

# The journey needs a browser; without Playwright the whole module is skipped.
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Every table is as wide as its box: no column hidden behind a horizontal scroll.
TABLE_FITS = """() => [...document.querySelectorAll('.table-wrap')]
  .every(el => el.scrollWidth <= el.clientWidth + 1)"""

# The elements sticking out past the right edge of the screen (for a failing assertion).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 10)
  .map(el => el.tagName + '.' + el.className + ' ' + el.getBoundingClientRect().right)"""

EMAIL = "buyer@example.com"
PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with run_simulator(
        services=[], frozen_clock=True, partial_share=0, cancel_share=0, speed=60
    ) as sim:
        sim.state.add_service(
            name="E2E Instagram Followers",
            category="Instagram",
            rate="1.00",
            min=10,
            max=5000,
            refill=True,
            cancel=True,
            desc="Followers for the browser test.",
        )
        sim.state.add_service(
            name="E2E Instagram Likes (drip-feed)",
            category="Instagram",
            rate="0.50",
            min=10,
            max=5000,
            dripfeed=True,
        )
        yield sim


@pytest.fixture
def catalogue(simulator: Simulator) -> dict[str, Service]:
    provider = provider_create(name="Simulator", api_url=simulator.url, api_key=simulator.key)
    provider_sync_catalogue(provider_id=provider.pk)
    services = {s.name: s for s in Service.objects.filter(provider=provider)}
    services_set_enabled(service_ids=[s.pk for s in services.values()], enabled=True)
    return {
        "default": Service.objects.get(name="E2E Instagram Followers"),
        "drip": Service.objects.get(name="E2E Instagram Likes (drip-feed)"),
    }


def deliver(simulator: Simulator, provider: Provider) -> None:
    """What the workers would do: forward queued orders and refills, let the provider finish,
    then sync statuses (as if the next poll were due)."""
    for order_id in Order.objects.filter(status=Order.Status.QUEUED).values_list("pk", flat=True):
        order_forward(order_id=order_id)
    for refill_id in Refill.objects.filter(status=Refill.Status.QUEUED).values_list(
        "pk", flat=True
    ):
        refill_forward(refill_id=refill_id)
    simulator.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk, now=timezone.now() + dt.timedelta(hours=1))


def test_it_takes_a_customer_from_sign_up_to_a_refill(
    live_server: object,
    browser: object,
    screenshot: object,
    simulator: Simulator,
    catalogue: dict[str, Service],
    admin_user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Statuses refresh by polling; poll every second so the test sees it without a reload.
    monkeypatch.setattr(listing, "POLL_SECONDS", 1)
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")  # type: ignore[attr-defined]
    page = context.new_page()

    # Staff wrote Terms and an FAQ: the footer links them and sign-up asks to accept the terms.
    Page.objects.create(kind="terms", title="Terms of service", body="Be nice.")
    Page.objects.create(kind="faq", title="FAQ", body="How fast? Minutes.")
    # The customer arrives through another customer's referral link.
    referrer = User.objects.create_user(email="referrer@example.com", password=PASSWORD)
    Programme.objects.create(commission_percent=Decimal("10"))
    page.goto(base + f"/r/{referral_code_for(user=referrer).code}/")
    page.wait_for_url(base + "/accounts/signup/")
    expect(page.locator("footer")).to_contain_text("Terms")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    # The browser will not send the form before the terms are accepted (the server refuses
    # it too: tests/web/test_site_pages.py).
    expect(page.locator("input[name=accept_terms]")).to_have_attribute("required", "")
    expect(page.get_by_role("link", name="terms of service")).to_have_attribute("href", "/terms/")
    page.check("input[name=accept_terms]")
    screenshot(page, "02-sign-up")  # type: ignore[operator]
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()

    customer = User.objects.get(email=EMAIL)
    assert Referral.objects.get(referred=customer).referrer == referrer
    funds_adjust(user=customer, amount=Decimal("20.00"), reason="E2E credit", staff=admin_user)
    page.reload()
    assert "$20.00" in page.locator("#balance").inner_text()

    # --- A Default order, found through the search box ---------------------------------
    # The page's own quote loads as soon as htmx starts: wait for it, or the wait for the
    # picked service's quote below could be satisfied by this one on a slow machine, and the
    # fields typed next would land in the form the pick is about to replace (the CI timeout).
    with page.expect_response(lambda response: "/orders/new/quote/" in response.url):
        page.goto(base + "/orders/new/")
    # All words, in any order, in the name or the category.
    page.fill("#service-search", "followers instagram e2e")
    # Picking a result swaps in that service's form, whose quote loads at once: wait for that
    # request, or fields typed next could land in the form about to be replaced (the page
    # already shows a Followers service before the swap).
    with page.expect_response(lambda response: "/orders/new/quote/" in response.url):
        page.locator("#search-results button").first.click()
    # expect() polls natively: string predicates (wait_for_function) are eval, which the
    # Content-Security-Policy forbids.
    expect(page.locator("#id_service option:checked")).to_contain_text("Followers")
    page.fill("#id_link", "https://instagram.com/e2e_default")
    page.fill("#id_quantity", "1000")
    page.wait_for_selector("[data-testid=quote]")
    price = catalogue["default"].rate  # no discount: the public rate
    assert page.locator("[data-testid=quote]").inner_text() == f"${price:.2f}"
    screenshot(page, "03-new-order")  # type: ignore[operator]
    page.get_by_role("button", name="Place order").click()
    page.wait_for_selector("[data-testid=new-balance]")
    default_order = Order.objects.get(user=customer, link="https://instagram.com/e2e_default")
    assert default_order.charge == price
    assert page.locator("[data-testid=new-balance]").inner_text() == f"${20 - price:.2f}"
    screenshot(page, "04-order-placed")  # type: ignore[operator]

    # --- An inline error, then a drip-feed order through the category → service select ---
    page.goto(base + "/orders/new/")
    page.select_option("#id_service", str(catalogue["drip"].pk))
    page.wait_for_selector("#id_runs")
    page.fill("#id_link", "https://instagram.com/e2e_drip")
    page.fill("#id_quantity", "5")
    expect(page.locator("#err_quantity")).to_contain_text("at least 10")
    page.fill("#id_quantity", "100")
    page.fill("#id_runs", "3")
    page.fill("#id_interval", "10")
    drip_price = catalogue["drip"].rate * 300 / 1000
    expect(page.locator("#err_quantity")).to_have_text("")
    # Two decimals, the exact charge in the tooltip.
    shown = drip_price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    expect(page.locator("[data-testid=quote]")).to_have_text(f"${shown}")
    screenshot(page, "05-new-order-dripfeed")  # type: ignore[operator]
    page.get_by_role("button", name="Place order").click()
    page.wait_for_selector("[data-testid=new-balance]")
    drip_order = Order.objects.get(user=customer, link="https://instagram.com/e2e_drip")
    assert (drip_order.quantity, drip_order.runs, drip_order.interval) == (100, 3, 10)
    assert drip_order.charge == drip_price.quantize(Decimal("0.00001"))

    # --- The orders page updates itself while the provider delivers ---------------------
    page.goto(base + "/orders/")
    assert page.locator(f"#order-{default_order.pk}").get_attribute("data-status") == "queued"
    provider = Provider.objects.get(name="Simulator")
    deliver(simulator, provider)
    for order in (default_order, drip_order):
        order.refresh_from_db()
        assert order.status == Order.Status.COMPLETED, order.last_error
    page.wait_for_selector(f"#order-{default_order.pk}[data-status=completed]", timeout=5000)
    page.wait_for_selector(f"#order-{drip_order.pk}[data-status=completed]", timeout=5000)
    # A drip-feed row says per-run quantity, runs and total (the remains count the total).
    drip_row = page.locator(f"#order-{drip_order.pk}")
    expect(drip_row.get_by_test_id("quantity")).to_have_text("100 × 3 runs")
    expect(drip_row).to_contain_text("300 in total")
    # The table fits a 1280 px window: nothing to scroll sideways to reach status or buttons.
    assert page.evaluate(TABLE_FITS), page.evaluate(OVERFLOWING)
    screenshot(page, "06-orders")  # type: ignore[operator]

    # --- Refill --------------------------------------------------------------------------
    page.locator(f"#order-{default_order.pk}").get_by_role("button", name="Refill").click()
    page.wait_for_selector(".alert-success")
    assert f"Refill of order #{default_order.pk} requested." in page.inner_text(".messages")
    assert Refill.objects.filter(order=default_order).count() == 1
    deliver(simulator, provider)
    page.goto(base + f"/orders/{default_order.pk}/")
    screenshot(page, "07-order-detail")  # type: ignore[operator]

    # --- Mass order with one bad line -----------------------------------------------------
    page.goto(base + "/orders/mass/")
    service_id = catalogue["default"].pk
    page.fill(
        "textarea[name=orders]",
        f"{service_id} | https://instagram.com/mass_one | 100\n"
        f"{service_id} | not-a-link | 100\n"
        f"{service_id} | https://instagram.com/mass_two | 200",
    )
    page.get_by_role("button", name="Place orders").click()
    page.wait_for_selector("tr[data-line='3']")
    assert page.locator("tr[data-ok='1']").count() == 2
    assert page.locator("tr[data-ok='0']").count() == 1
    assert Order.objects.filter(user=customer, source=Order.Source.MASS).count() == 2
    assert page.input_value("textarea[name=orders]") == f"{service_id} | not-a-link | 100"
    screenshot(page, "08-mass-order")  # type: ignore[operator]

    # --- Services: all words in any order, feature filters, measured average time ----------
    page.goto(base + "/services/?q=e2e+followers")
    expect(page.locator(f"#service-{catalogue['default'].pk}")).to_be_visible()
    expect(page.locator(f"#service-{catalogue['drip'].pk}")).to_have_count(0)
    page.goto(base + "/services/?feature=dripfeed")
    expect(page.locator(f"#service-{catalogue['drip'].pk}")).to_be_visible()
    expect(page.locator(f"#service-{catalogue['default'].pk}")).to_have_count(0)

    # --- The referrer earned 10% of a deposit -------------------------------------------------
    deposit = Payment.objects.create(
        user=customer, gateway="stripe", amount=Decimal("30.00"), currency="USD"
    )
    payment_confirm(
        payment_id=deposit.pk,
        gateway="stripe",
        external_id="cs_e2e",
        amount=deposit.payable,
        currency="USD",
    )
    referrer.refresh_from_db()
    assert referrer.balance == Decimal("3.00000")

    # --- The other pages ------------------------------------------------------------------
    for path, name in [
        ("/", "09-dashboard"),
        ("/services/", "10-services"),
        ("/updates/", "10b-updates"),
        ("/referrals/", "10c-referrals"),
        ("/faq/", "10d-faq"),
        ("/funds/", "11-add-funds"),
        ("/transactions/", "12-transactions"),
        ("/api-access/", "13-api"),
        ("/account/", "14-account"),
        ("/accounts/2fa/", "15-two-factor"),
        ("/accounts/password/change/", "16-password"),
    ]:
        response = page.goto(base + path)
        assert response.status == 200, path
        screenshot(page, name)  # type: ignore[operator]

    # --- Language switch --------------------------------------------------------------------
    page.goto(base + "/orders/")
    page.select_option("#language-select", "ru")
    page.wait_for_selector("html[lang=ru]")
    assert page.get_by_role("heading", name="Заказы").is_visible()
    assert re.search(r"\d,\d{2,5}\xa0\$", page.locator("#balance").inner_text())
    customer.refresh_from_db()
    assert customer.language == "ru"
    expect(page.locator(f"#order-{drip_order.pk}").get_by_test_id("quantity")).to_have_text(
        "100 × 3 запуска"
    )
    screenshot(page, "17-orders-ru")  # type: ignore[operator]
    page.goto(base + "/referrals/")
    expect(page.get_by_test_id("referral-signups")).to_have_text("0")
    page.goto(base + "/services/?q=e2e+followers")
    expect(page.locator("main")).to_contain_text("Докрутка 30 дней")
    page.goto(base + "/orders/new/")
    screenshot(page, "18-new-order-ru")  # type: ignore[operator]
    page.select_option("#language-select", "en")
    page.wait_for_selector("html[lang=en]")

    # --- A phone-sized screen ---------------------------------------------------------------
    phone = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True
    )
    phone.add_cookies(context.cookies())
    mobile = phone.new_page()
    for path, name in [
        ("/", "phone-01-dashboard"),
        ("/orders/new/", "phone-02-new-order"),
        ("/orders/", "phone-03-orders"),
        ("/services/", "phone-04-services"),
        ("/updates/", "phone-05-updates"),
        ("/referrals/", "phone-06-referrals"),
    ]:
        mobile.goto(base + path)
        screenshot(mobile, name)  # type: ignore[operator]
        # Nothing spills sideways on a phone: the page is never wider than the screen.
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, mobile.evaluate(OVERFLOWING))
        assert mobile.evaluate(TABLE_FITS), path
    # The orders stack into cards: each status badge is on screen.
    mobile.goto(base + "/orders/")
    for order in (default_order, drip_order):
        box = mobile.locator(f"#order-{order.pk} .badge").first.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 375
    phone.close()
    context.close()


def test_it_signs_in_and_out_in_a_browser(
    live_server: object, browser: object, screenshot: object, customer: User
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(base + "/orders/")
    page.wait_for_url(re.compile(r".*/accounts/login/.*"))
    page.fill("input[name=login]", "customer@example.com")
    page.fill("input[name=password]", "wrong password")
    page.locator("form button[type=submit]").click()
    page.wait_for_selector(".alert-error, .errorlist")
    screenshot(page, "00-sign-in-error")  # type: ignore[operator]
    page.fill("input[name=password]", "correct horse battery")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/orders/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("link", name="Create an account").is_visible()
    context.close()
