"""The live quote when the machine is slow: a customer who types right after picking a service
must not lose what they typed, nor wait for a price that never comes.

What the CI timeout was: the page's own first quote answered late, after the customer had picked
another service but before that service's form arrived. Typing went into the form about to be
replaced; the swap threw it away, the new form's quote said "fill in the form", and no price
ever came. The fields being replaced are now disabled while the new form is on its way.
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from catalog.models import Service
from orders.views import new_order
from tests.e2e.test_customer_journey import catalogue, simulator  # noqa: F401

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def slowed(real: Callable[..., Any], *, seconds: float, after: int) -> Callable[..., Any]:
    """`real`, sleeping `seconds` on its calls after the first `after` (a busy server)."""
    calls = {"n": 0}
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n > after:
            time.sleep(seconds)
        return real(*args, **kwargs)

    return wrapper


def test_a_slow_service_swap_keeps_what_the_customer_types(
    live_server: object,
    browser: object,
    catalogue: dict[str, Service],  # noqa: F811
    customer: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first quote (the page's own) answers after 1.2 s; every picked form after 0.9 s: the
    # stale quote lands after the pick, before the picked form.
    monkeypatch.setattr(
        new_order, "order_quote", slowed(new_order.order_quote, seconds=1.2, after=0)
    )
    monkeypatch.setattr(new_order, "_picker", slowed(new_order._picker, seconds=0.9, after=1))
    base = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", customer.email)
    page.fill("input[name=password]", "correct horse battery")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(base + "/")

    page.goto(base + "/orders/new/")  # no waiting for its quote: a customer does not
    page.fill("#service-search", "followers")
    page.wait_for_selector("#search-results button")
    with page.expect_response(lambda response: "/orders/new/quote/" in response.url):
        page.locator("#search-results button").first.click()  # satisfied by the stale quote
    page.fill("#id_link", "https://instagram.com/slow_machine")
    page.fill("#id_quantity", "1000")

    expect(page.locator("[data-testid=quote]")).to_have_text(
        f"${catalogue['default'].rate:.2f}", timeout=10_000
    )
    expect(page.locator("#id_link")).to_have_value("https://instagram.com/slow_machine")
    context.close()
