"""The status sync records its last complete pass per provider (read by /readyz, /metrics)."""

from accounts.models import User
from catalog.models import Provider
from orders.services.status_sync import orders_sync_statuses
from tests.factories import ProviderFactory
from tests.production.helpers import closed_port, open_order


def test_it_records_a_complete_status_poll(provider: Provider, customer: User) -> None:
    open_order(customer, provider, upstream_id="424242")
    stats = orders_sync_statuses(provider_id=provider.pk)
    provider.refresh_from_db()
    assert (stats.calls, stats.failed_calls) == (1, 0)
    assert provider.last_status_sync_at is not None


def test_it_records_nothing_when_the_provider_is_down(db: None, customer: User) -> None:
    down = ProviderFactory(api_url=f"http://127.0.0.1:{closed_port()}/api/v2")
    open_order(customer, down)
    stats = orders_sync_statuses(provider_id=down.pk)
    down.refresh_from_db()
    assert stats.failed_calls == 1
    assert down.last_status_sync_at is None
