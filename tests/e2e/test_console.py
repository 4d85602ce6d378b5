"""The operator console in a real browser: the dashboard, each work queue and one action of
each, the one-click operator actions, in English and Russian, at 1366×768 and 1920×1080.
Screenshots land in var/screenshots/console/.
"""

import re
from decimal import Decimal

import pytest

from accounts.models import User
from catalog.models import Provider
from console.models import AuditEntry, Notification
from console.services import notify
from orders.models import Order, Refill
from tests.console.seed import Seed, seed_console
from tests.e2e.conftest import SCREENSHOTS
from tests.factories import UserFactory

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"
SIZES = [(1366, 768), (1920, 1080)]
PAGES = {
    "dashboard": "/admin/",
    "review": "/admin/console/queues/review/",
    "held": "/admin/console/queues/held/",
    "failed": "/admin/console/queues/failed/",
    "refills": "/admin/console/queues/refills/",
    "paused": "/admin/console/queues/paused/",
    "orders": "/admin/orders/order/",
    "users": "/admin/accounts/user/",
    "services": "/admin/catalog/service/",
    "providers": "/admin/catalog/provider/",
    "transactions": "/admin/accounts/ledgerentry/",
    "audit": "/admin/console/auditentry/",
    "notifications": "/admin/console/notification/",
    "markup": "/admin/console/markup/?category={category}&markup_percent=45",
}
# Every table fits its box: no main column behind a horizontal scroll.
TABLES_FIT = """() => [...document.querySelectorAll('table')].filter(t => {
  const box = t.parentElement.getBoundingClientRect();
  return t.getBoundingClientRect().right > Math.min(box.right, window.innerWidth) + 1;
}).map(t => t.querySelector('th') ? t.querySelector('th').innerText : t.className)"""


@pytest.fixture
def console_data(db: None) -> tuple[Seed, User]:
    seed = seed_console(days=14)
    staff = UserFactory(email="ops@example.com", is_staff=True, is_superuser=True)
    notify(
        kind=Notification.Kind.OUT_OF_FUNDS,
        subject_key=f"provider:{seed.providers[1].pk}",
        title="Provider CheapPanel paused: Not enough funds on balance",
        body="Orders for it stay queued.",
        link=f"/admin/catalog/provider/{seed.providers[1].pk}/change/",
    )
    return seed, staff


def row_menu(page: object, row_text: str) -> None:
    """Open the row's actions menu (the theme's "…" button) in a list."""
    row = page.locator("tr", has_text=row_text).first  # type: ignore[attr-defined]
    row.locator("span.material-symbols-outlined", has_text="more_horiz").click()


def sign_in(page: object, base: str) -> None:
    page.goto(base + "/accounts/login/?next=/admin/")  # type: ignore[attr-defined]
    page.fill("input[name=login]", "ops@example.com")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.locator("form button[type=submit]").click()  # type: ignore[attr-defined]
    page.wait_for_url(base + "/admin/")  # type: ignore[attr-defined]


def test_it_walks_the_dashboard_and_every_queue_with_one_action_each(
    live_server: object, browser: object, console_data: tuple[Seed, User]
) -> None:
    seed, _staff = console_data
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base)

    # The dashboard: three charts drawn by the theme's Chart.js, the counters link to queues.
    expect(
        page.get_by_role("heading", name="Revenue, provider cost and profit per day")
    ).to_be_visible()
    assert page.evaluate("document.querySelectorAll('canvas.chart').length") == 3
    drawn = "[...document.querySelectorAll('canvas.chart')].every(c => Chart.getChart(c))"
    assert page.evaluate(drawn)
    page.locator("a.console-counter", has_text="Needs review").click()
    page.wait_for_url(base + "/admin/console/queues/review/")

    # Needs review: the provider's last answer is shown; attach the upstream id.
    expect(page.get_by_text("Read timeout after 30 s")).to_be_visible()
    row = page.locator("tr", has_text=str(seed.review.pk)).first
    row.get_by_placeholder("Provider order id").fill("770001")
    row.get_by_role("button", name="Attach").click()
    expect(page.get_by_text(f"Order {seed.review.pk}: upstream id attached")).to_be_visible()
    seed.review.refresh_from_db()
    assert (seed.review.status, seed.review.upstream_order_id) == ("sent", "770001")

    # Held on impossible numbers: the numbers are shown; cancel and refund.
    page.get_by_role("link", name=re.compile("Held: impossible numbers")).click()
    expect(page.get_by_text("remains=-50")).to_be_visible()
    page.locator("tr", has_text=str(seed.held.pk)).get_by_role(
        "button", name="Cancel and refund"
    ).click()
    expect(page.get_by_text(f"Order {seed.held.pk} canceled and refunded in full.")).to_be_visible()
    seed.held.refresh_from_db()
    assert (seed.held.status, seed.held.refunded) == ("canceled", seed.held.charge)

    # Failed in 24 h: the provider's sentence; open the order.
    page.get_by_role("link", name=re.compile(r"Failed \(24 h\)")).click()
    expect(page.get_by_text("Incorrect link: the account is private")).to_be_visible()
    page.get_by_role("link", name=str(seed.failed.pk), exact=True).click()
    page.wait_for_url(re.compile(rf".*/admin/orders/order/{seed.failed.pk}/change/"))

    # Refills and cancels: reject the refill in needs review.
    page.get_by_role("link", name=re.compile("Refills and cancels")).click()
    page.locator("tr", has_text="HTTP 502").get_by_role("button", name="Reject").click()
    expect(page.get_by_text(f"Refill {seed.refill.pk} marked rejected.")).to_be_visible()
    assert Refill.objects.get(pk=seed.refill.pk).status == "rejected"

    # Providers paused: resume, then it leaves the queue.
    page.get_by_role("link", name=re.compile("Providers paused")).click()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("CheapPanel resumed.")).to_be_visible()
    expect(page.get_by_text("No provider is paused.")).to_be_visible()
    assert Provider.objects.get(pk=seed.providers[1].pk).is_paused is False

    # Operator actions: refresh a provider's balance (asked first, its answer shown), adjust a
    # balance.
    page.goto(base + "/admin/catalog/provider/")
    row_menu(page, "FastSMM")
    page.get_by_role("link", name="Refresh balance").click()
    page.wait_for_url(re.compile(r".*/admin/catalog/provider/\d+/refresh-balance/"))
    expect(page.get_by_text("Refresh the balance of “FastSMM”?")).to_be_visible()
    page.get_by_role("button", name="Refresh balance").click()
    page.wait_for_url(base + "/admin/catalog/provider/")
    message = page.locator(".errornote", has_text="balance: not delivered")
    expect(message).to_contain_text("Connection refused")

    before = User.objects.get(pk=seed.customer.pk).balance
    page.goto(base + "/admin/accounts/user/")
    row_menu(page, "buyer@example.com")
    page.get_by_role("link", name="Adjust balance").click()
    page.fill("input[name=amount]", "25")
    page.fill("input[name=reason]", "Goodwill credit")
    page.get_by_role("button", name="Record adjustment").click()
    page.wait_for_url(re.compile(rf".*/admin/accounts/user/{seed.customer.pk}/change/"))
    after = before + Decimal(25)
    expect(page.get_by_text(f"changed by 25.00000; now {after}.")).to_be_visible()
    assert User.objects.get(pk=seed.customer.pk).balance == after

    # Bulk markup: preview old → new, then apply.
    page.goto(base + f"/admin/console/markup/?provider={seed.providers[0].pk}&markup_percent=50")
    expect(page.get_by_text("1.80")).to_be_visible()
    page.get_by_role("button", name=re.compile("Apply to")).click()
    expect(page.get_by_text("now priced at 50")).to_be_visible()

    # The notification inbox has the alert; the audit log has every staff action above.
    page.goto(base + "/admin/console/notification/")
    expect(page.get_by_text("Provider CheapPanel paused")).to_be_visible()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert actions == {"review", "provider", "money", "price"}
    page.goto(base + "/admin/console/auditentry/?q=Goodwill")
    expect(page.get_by_text("Goodwill credit").first).to_be_visible()
    assert Order.objects.get(pk=seed.review.pk).status == "sent"
    assert not [e for e in errors if "Content Security Policy" in e]
    context.close()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_console_page_fits_and_is_screenshotted(
    live_server: object,
    browser: object,
    console_data: tuple[Seed, User],
    screenshot: object,
    language: str,
) -> None:
    seed, staff = console_data
    User.objects.filter(pk=staff.pk).update(language=language)
    (SCREENSHOTS / "H6").mkdir(parents=True, exist_ok=True)
    base = live_server.url  # type: ignore[attr-defined]
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height}, locale=language)  # type: ignore[attr-defined]
        page = context.new_page()
        sign_in(page, base)
        for name, path in PAGES.items():
            page.goto(base + path.format(category=seed.services[0].category_id))
            page.wait_for_load_state("networkidle")
            assert page.evaluate(TABLES_FIT) == [], (name, width)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            screenshot(page, f"H6/{name}-{width}x{height}-{language}")  # type: ignore[operator]
        context.close()
