"""Short versions of chaos scenarios 1, 2 and 6 (``python -m chaos`` runs the full ones).

The panel serves the API from pytest's live server on the test PostgreSQL; the simulator runs
in-process; the background work a worker and beat would do runs here, through the same tasks.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from chaos.world import World
from orders import tasks
from orders.models import Order
from simulator import Simulator, run_simulator


class InProcessWorld(World):
    """Forwarding, the sweeper and status sync run in ``drive()``, with short retries due now
    (a test cannot wait out a backoff; retries deferred by minutes stay deferred)."""

    def drive(self) -> None:
        # The sweeper first, as beat would have run it since the last look (resuming a provider
        # in the same breath as a pause would pause it again at once).
        tasks.sweep_orders()
        soon = timezone.now() + dt.timedelta(seconds=60)
        Order.objects.filter(status="queued", next_attempt_at__lte=soon).update(
            next_attempt_at=None
        )
        for order_id in Order.objects.filter(
            status="queued", next_attempt_at__isnull=True
        ).values_list("pk", flat=True):
            tasks.forward_order(order_id)
        tasks.sync_provider_statuses(self.provider.pk)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    # The "read timeout" fault outlasts the client's read timeout (set below).
    with run_simulator(port=0, seed=16, speed=3600, timeout_seconds=2, balance="100000") as sim:
        yield sim


@pytest.fixture
def world(
    requires_postgres: None,
    transactional_db: None,
    live_server: Any,
    settings: Any,
    simulator: Simulator,
) -> Iterator[World]:
    settings.SMMAPI_READ_TIMEOUT = 1
    settings.SMMAPI_CONNECT_TIMEOUT = 1
    chaos_world = InProcessWorld(
        api_url=f"{live_server.url}/api/v2",
        web_url=live_server.url,
        sim_url=simulator.base_url,
        sim_key=simulator.key,
    )
    yield chaos_world
    chaos_world.close()
