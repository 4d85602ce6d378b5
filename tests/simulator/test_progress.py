import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from simulator import SimService, SimState, Simulator, run_simulator
from tests.simulator.conftest import Api

LINK = "https://tiktok.com/@someone"


@pytest.fixture
def service(sim: Simulator) -> SimService:
    return sim.state.add_service(
        name="Followers", rate="2.00", min=10, max=10_000, refill=True, cancel=True
    )


def place(state: SimState, service: SimService, quantity: int = 1000, link: str = LINK) -> int:
    return state.place_order({"service": str(service.id), "link": link, "quantity": str(quantity)})


def test_it_moves_an_order_from_pending_to_completed(
    api: Api, sim: Simulator, service: SimService
) -> None:
    order = api(action="add", service=service.id, link=LINK, quantity="1000")["order"]
    assert api(action="status", order=order) == {
        "charge": "2.00",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }

    sim.state.advance(5)  # a quarter of the default 20 s: it starts
    started = api(action="status", order=order)
    assert started["status"] == "In progress"
    assert int(started["start_count"]) == sim.state.order(order).start_count
    assert started["remains"] == "1000"

    sim.state.advance(7.5)  # half way through the delivery
    assert api(action="status", order=order)["remains"] == "500"

    sim.state.advance(7.5)
    assert api(action="status", order=order) == {
        "charge": "2.00",
        "start_count": started["start_count"],
        "status": "Completed",
        "remains": "0",
        "currency": "USD",
    }
    assert sim.state.balance == Decimal("998.00")


def test_it_ends_a_share_of_orders_partial_and_refunds_the_remains() -> None:
    with run_simulator(frozen_clock=True, partial_share=1, cancel_share=0) as sim:
        service = sim.state.add_service(name="Likes", rate="1.00", min=10, max=10_000)
        order = place(sim.state, service)

        sim.state.finish_all()

        final = sim.state.order(order)
        assert final.status == "Partial"
        assert 0 < final.remains < 1000
        refund = (Decimal("1.00") * final.remains / 1000).quantize(Decimal("0.00001"))
        assert sim.state.balance == Decimal("999.00") + refund


def test_it_ends_a_share_of_orders_canceled_with_a_full_refund() -> None:
    with run_simulator(frozen_clock=True, partial_share=0, cancel_share=1) as sim:
        service = sim.state.add_service(name="Likes", rate="1.00", min=10, max=10_000)
        order = place(sim.state, service)
        assert sim.state.balance == Decimal("999.00")

        sim.state.advance(5)

        assert sim.state.order(order).status == "Canceled"
        assert sim.state.order(order).remains == 1000
        assert sim.state.balance == Decimal("1000.00")


def test_it_mixes_endings_by_share() -> None:
    with run_simulator(frozen_clock=True, partial_share=0.3, cancel_share=0.2, seed=7) as sim:
        for index in range(200):
            sim.state.place_order({"service": "1", "link": f"u{index}", "quantity": "1000"})
        sim.state.finish_all()
        endings = [order.status for order in sim.state.orders()]
        assert 20 < endings.count("Canceled") < 60
        assert 40 < endings.count("Partial") < 80


def test_it_lets_a_test_force_a_status_and_refunds_once(
    sim: Simulator, service: SimService, api: Api
) -> None:
    order = place(sim.state, service)

    sim.state.set_order(order, status="Partial", remains=250)
    assert sim.state.balance == Decimal("998.50")
    sim.state.set_order(order, status="Partial", remains=250)
    assert sim.state.balance == Decimal("998.50")
    sim.state.set_order(order, status="Canceled")
    assert sim.state.balance == Decimal("1000.00")

    sim.state.advance(100)  # a forced order no longer moves with time
    assert api(action="status", order=order)["status"] == "Canceled"


def test_it_lets_a_test_set_any_status_spelling(
    sim: Simulator, service: SimService, api: Api
) -> None:
    order = place(sim.state, service)

    sim.state.set_order(order, status="Refunded", remains=-5, start_count=7)

    status = api(action="status", order=order)
    assert status["status"] == "Refunded"
    assert status["remains"] == "-5"
    assert status["start_count"] == "7"


def test_it_runs_subscriptions_from_active_to_completed(api: Api, sim: Simulator) -> None:
    service = sim.state.add_service(name="Auto likes", type="Subscriptions", rate="1.00", min=10)
    answer = api(action="add", service=service.id, username="nasa", min="10", max="100", posts="4")
    order = answer["order"]
    assert api(action="status", order=order)["charge"] == "0.40"

    sim.state.advance(5)
    assert api(action="status", order=order)["status"] == "Active"

    sim.state.advance(15)
    assert api(action="status", order=order) == {
        "charge": "0.40",
        "start_count": str(sim.state.order(order).start_count),
        "status": "Completed",
        "remains": "0",
        "posts": "4",
        "currency": "USD",
    }


def test_it_expires_a_subscription_and_refunds_undelivered_posts(sim: Simulator) -> None:
    service = sim.state.add_service(name="Auto views", type="Subscriptions", rate="1.00", min=10)
    order = sim.state.place_order(
        {"service": str(service.id), "username": "nasa", "min": "10", "max": "100", "posts": "4"}
    )

    sim.state.set_order(order, status="Expired", remains=1)

    assert sim.state.balance == Decimal("999.70")


def test_it_cancels_a_started_order_as_partial(
    api: Api, sim: Simulator, service: SimService
) -> None:
    order = place(sim.state, service)
    sim.state.advance(12.5)  # started at 5 s, half delivered

    assert api(action="cancel", orders=str(order)) == [{"order": order, "cancel": 1}]

    final = api(action="status", order=order)
    assert (final["status"], final["remains"]) == ("Partial", "500")
    assert sim.state.balance == Decimal("999.00")
    sim.state.finish_all()
    assert api(action="status", order=order)["status"] == "Partial"


def test_it_refuses_to_cancel_a_completed_order(
    api: Api, sim: Simulator, service: SimService
) -> None:
    order = place(sim.state, service)
    sim.state.finish_all()

    assert api(action="cancel", order=order) == {"error": "Order can't be canceled"}


def test_it_moves_refills_from_pending_to_completed_or_rejected(
    sim: Simulator, service: SimService
) -> None:
    first = place(sim.state, service)
    second = place(sim.state, service, link=LINK + "/2")
    sim.state.finish_all()

    refill = sim.state.create_refill(str(first))
    assert sim.state.refill_status(str(refill)) == "Pending"
    sim.state.advance(5)
    assert sim.state.refill_status(str(refill)) == "In progress"
    sim.state.advance(15)
    assert sim.state.refill_status(str(refill)) == "Completed"

    sim.state.set_knobs(refill_reject_share=1)
    rejected = sim.state.create_refill(str(second))
    sim.state.finish_all()
    assert sim.state.refill_status(str(rejected)) == "Rejected"


def test_it_follows_a_runtime_speed_change(sim: Simulator, service: SimService) -> None:
    sim.state.set_knobs(speed=0)

    order = place(sim.state, service)

    assert sim.state.order(order).status == "Completed"


def test_it_moves_with_real_time_unless_frozen() -> None:
    with run_simulator(speed=0.05, partial_share=0, cancel_share=0) as sim:
        order = sim.state.place_order({"service": "1", "link": "someone", "quantity": "100"})
        deadline = sim.state.now() + 2
        while sim.state.order(order).status != "Completed" and sim.state.now() < deadline:
            time.sleep(0.01)
        assert sim.state.order(order).status == "Completed"


@pytest.fixture
def many_orders() -> Iterator[Simulator]:
    with run_simulator(frozen_clock=True, services=20) as sim:
        yield sim


def test_it_keeps_ticking_cheap_with_many_orders(many_orders: Simulator) -> None:
    state = many_orders.state
    for index in range(5000):
        state.place_order({"service": "1", "link": f"user{index}", "quantity": "100"})

    state.finish_all()

    assert all(order.status in {"Completed", "Partial", "Canceled"} for order in state.orders())


def test_it_reports_the_posts_of_an_unlimited_subscription_as_steered(
    api: Api, sim: Simulator
) -> None:
    service = sim.state.add_service(name="Auto likes", type="Subscriptions", rate="1.00", min=10)
    order = api(action="add", service=service.id, username="nasa", min="10", max="100")["order"]
    sim.state.advance(5)
    assert api(action="status", order=order)["posts"] == "0"

    sim.state.set_order(order, posts=7)

    answer = api(action="status", order=order)
    assert (answer["status"], answer["posts"]) == ("Active", "7")
    sim.state.set_order(order, status="Canceled", posts=9)
    answer = api(action="status", order=order)
    assert (answer["status"], answer["posts"]) == ("Canceled", "9")
