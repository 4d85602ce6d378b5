"""Support tickets in a real browser, in English and Russian: a customer opens an order ticket
asking for a refill, staff forward the refill from the ticket, the customer sees the answer."""

from typing import Any
from unittest import mock

import pytest

from orders.models import Refill
from support.models import Ticket
from tests.e2e.test_payments_browser import SHOTS, a_customer, a_staff_member, shoot, signed_in
from tests.support.conftest import make_order

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "category": "Order: refill",
        "forward": "Forward refill",
        "requested": "was requested",
        "send": "Send",
        "reply": "Send reply",
        "waiting": "Waiting for support",
    },
    "ru": {
        "category": "Заказ: докрутка",
        "forward": "Отправить докрутку",
        "requested": "Запрошена докрутка заказа",
        "send": "Отправить",
        "reply": "Отправить ответ",
        "waiting": "Ждёт ответа поддержки",
    },
}


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_customer_asks_for_a_refill_and_staff_forward_it_from_the_ticket(
    live_server: Any, browser: Any, language: str
) -> None:
    base = live_server.url
    text = TEXT[language]
    customer = a_customer(f"ticket-{language}@example.com", language)
    staff = a_staff_member(language)
    order = make_order(customer, upstream="880011")

    context = signed_in(browser, base, customer)
    page = context.new_page()
    page.goto(base + "/")
    page.locator("nav.sidebar a[href='/support/']").click()
    page.wait_for_url(base + "/support/")
    shoot(browser, base, customer, "/support/", f"{language}-support-empty")
    page.goto(base + "/support/new/")
    page.select_option("#id_category", label=text["category"])
    page.fill("#id_subject", "Followers dropped")
    page.fill("#id_order_ids", f"{order.pk}, 999999")
    page.fill("#id_body", "About half of the followers are gone. Please refill.")
    page.get_by_role("button", name=text["send"], exact=True).click()
    expect(page.locator("#err_order_ids")).to_contain_text("999999")  # not theirs: refused
    page.fill("#id_order_ids", f"#{order.pk}")
    page.get_by_role("button", name=text["send"], exact=True).click()
    ticket = Ticket.objects.get(user=customer)
    page.wait_for_url(base + f"/support/{ticket.pk}/")
    expect(page.locator("main")).to_contain_text(text["waiting"])
    shoot(browser, base, customer, "/support/new/", f"{language}-support-new")

    staff_context = signed_in(browser, base, staff)
    admin = staff_context.new_page()
    admin.goto(base + "/admin/support/ticket/?state=waiting_staff")
    admin.get_by_role("link", name=str(ticket)).click()
    expect(admin.get_by_test_id("upstream-id")).to_have_text("880011")
    # The worker is not running: the refill's forward task is only enqueued.
    with mock.patch("orders.tasks.forward_refill.delay") as delay:
        admin.get_by_role("button", name=text["forward"]).click()
        expect(admin.locator("#content")).to_contain_text(text["requested"])
    refill = Refill.objects.get(order=order)
    delay.assert_called_once_with(refill.pk)
    admin.fill("#id_body", "Done: the provider refills it within 24 hours.")
    admin.get_by_role("button", name=text["reply"]).click()
    expect(admin.locator("#content")).to_contain_text("within 24 hours")
    admin.screenshot(path=str(SHOTS / f"{language}-admin-ticket.png"), full_page=True)
    staff_context.close()

    page.goto(base + "/orders/")
    expect(page.get_by_test_id("support-unread")).to_have_text("1")
    page.goto(base + f"/support/{ticket.pk}/")
    expect(page.locator("main")).to_contain_text("within 24 hours")
    expect(page.locator("main")).to_contain_text(text["requested"])
    expect(page.get_by_test_id("support-unread")).to_have_count(0)
    shoot(browser, base, customer, f"/support/{ticket.pk}/", f"{language}-support-ticket")
    shoot(browser, base, customer, "/support/", f"{language}-support-list")
    assert Refill.objects.filter(order=order).count() == 1
    context.close()
