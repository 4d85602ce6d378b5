from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from tests.accounts.helpers import WEBHOOK_SECRET

STRIPE_SESSIONS_URL = "https://api.stripe.com/v1/checkout/sessions"


@pytest.fixture
def stripe_enabled(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MIN_DEPOSIT = Decimal("5.00")
    settings.STRIPE_MAX_DEPOSIT = Decimal("1000.00")
    settings.STRIPE_FEE_PERCENT = Decimal("0")
    settings.PANEL_CURRENCY = "USD"


@pytest.fixture
def stripe_api(stripe_enabled: None) -> Iterator[respx.MockRouter]:
    """Stripe faked at the HTTP layer: any request not routed here fails the test."""
    with respx.mock(assert_all_called=False) as router:
        router.post(STRIPE_SESSIONS_URL).mock(
            return_value=httpx.Response(
                200,
                json={
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                    "payment_status": "unpaid",
                    "status": "open",
                },
            )
        )
        yield router
