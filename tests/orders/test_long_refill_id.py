"""Issue 10: a refill id longer than our column is kept whole for staff, never cut or lost."""

from __future__ import annotations

import httpx
import pytest
import respx

from catalog.models import Provider
from orders.models import Order, Refill
from orders.services import orders_sync_statuses, refill_forward, refill_request
from tests.orders.test_status_sync import sent
from tests.smmapi.fakes import ProviderMocker


@pytest.fixture
def completed(customer, services, provider, sim) -> Order:
    order = sent(customer, services["default"])
    sim.state.finish_all()
    orders_sync_statuses(provider_id=provider.pk)
    order.refresh_from_db()
    return order


def test_it_reviews_a_refill_whose_upstream_id_is_longer_than_the_column(
    customer,
    completed: Order,
    provider: Provider,
) -> None:
    refill = refill_request(user=customer, order_id=completed.pk)
    long_id = "R" * 100
    # The provider's answer faked at the HTTP layer: the simulator's ids are short.
    with respx.mock(assert_all_called=True, using=ProviderMocker.name) as mock:
        mock.post(provider.api_url).mock(return_value=httpx.Response(200, json={"refill": long_id}))
        assert refill_forward(refill_id=refill.pk) == Refill.Status.NEEDS_REVIEW
    refill.refresh_from_db()
    assert refill.status == Refill.Status.NEEDS_REVIEW
    assert refill.upstream_refill_id == ""
    assert long_id in refill.last_error
