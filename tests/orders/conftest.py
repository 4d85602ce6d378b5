from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.models import LedgerEntry, User
from catalog.models import Provider, Service
from orders.models import Order
from simulator import Knobs, Simulator, run_simulator
from tests.factories import ProviderFactory, ServiceFactory

# Simulator service ids used by these tests, one per type we exercise.
SIM_SERVICES: dict[str, dict[str, object]] = {
    "default": {
        "id": 1,
        "type": "Default",
        "rate": "1.00",
        "min": 10,
        "max": 10000,
        "refill": True,
        "cancel": True,
        "dripfeed": True,
    },
    "package": {"id": 2, "type": "Package", "rate": "5.00", "min": 1, "max": 1},
    "comments": {"id": 3, "type": "Custom Comments", "rate": "10.00", "min": 1, "max": 100},
    "subscription": {"id": 4, "type": "Subscriptions", "rate": "2.00", "min": 10, "max": 1000},
    "poll": {"id": 5, "type": "Poll", "rate": "1.00", "min": 10, "max": 10000},
    "mentions": {"id": 6, "type": "Mentions", "rate": "1.00", "min": 10, "max": 10000},
    "norefill": {"id": 7, "type": "Default", "rate": "1.00", "min": 10, "max": 10000},
}


SIM_KNOBS: dict[str, object] = {"partial_share": 0, "cancel_share": 0, "speed": 100}


@pytest.fixture(scope="session")
def _simulator() -> Iterator[Simulator]:
    with run_simulator(services=[], frozen_clock=True, **SIM_KNOBS) as simulator:
        for name, spec in SIM_SERVICES.items():
            simulator.state.add_service(name=name, **spec)  # type: ignore[arg-type]
        yield simulator


@pytest.fixture
def sim(_simulator: Simulator) -> Simulator:
    """A provider whose orders move only when the test moves its clock; fresh per test."""
    _simulator.state.reset()
    _simulator.state.knobs = Knobs()
    _simulator.state.knobs.update(SIM_KNOBS)
    return _simulator


@pytest.fixture
def provider(db: None, sim: Simulator) -> Provider:
    return ProviderFactory(name="Sim", api_url=sim.url, api_key=sim.key)


@pytest.fixture
def services(provider: Provider) -> dict[str, Service]:
    """Our catalogue rows for SIM_SERVICES, selling at upstream rate × 1.5."""
    made = {}
    for name, spec in SIM_SERVICES.items():
        rate = Decimal(str(spec["rate"]))
        made[name] = ServiceFactory(
            provider=provider,
            upstream_id=str(spec["id"]),
            name=name,
            type=spec["type"],
            upstream_rate=rate,
            rate=rate * Decimal("1.5"),
            min_quantity=spec["min"],
            max_quantity=spec["max"],
            refill=bool(spec.get("refill")),
            cancel=bool(spec.get("cancel")),
            dripfeed=bool(spec.get("dripfeed")),
        )
    return made


def assert_money_invariants() -> None:
    """Every balance equals its ledger sum; every order's charge and refund match the ledger."""
    ledger = LedgerEntry.objects.values("user_id").annotate(total=Sum("amount"))
    totals = {row["user_id"]: row["total"] for row in ledger}
    for user_id, balance in User.objects.values_list("pk", "balance"):
        assert balance == totals.get(user_id, 0), user_id
    charged = dict(
        LedgerEntry.objects.filter(amount__lt=0, order__isnull=False)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    refunded = dict(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND, order__isnull=False)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    for pk, charge, refund in Order.objects.values_list("pk", "charge", "refunded"):
        assert charge == -charged.get(pk, 0), pk
        assert refund == refunded.get(pk, 0), pk
        assert 0 <= refund <= charge, pk


@pytest.fixture(autouse=True)
def _money_invariants(db: None) -> Iterator[None]:
    # Depends on db so that it runs before the test's transaction is rolled back.
    yield
    assert_money_invariants()
