import time
from decimal import Decimal

import httpx
import pytest

from panel.smmapi.protocol import ServiceType
from simulator import Simulator, generate_catalogue, run_simulator
from tests.simulator.conftest import Api


def test_it_generates_the_same_catalogue_for_the_same_seed() -> None:
    assert generate_catalogue(50, seed=3) == generate_catalogue(50, seed=3)
    assert generate_catalogue(50, seed=3) != generate_catalogue(50, seed=4)


@pytest.mark.parametrize("count", [16, 50, 200])
def test_it_covers_every_service_type(count: int) -> None:
    services = generate_catalogue(count)

    assert [service.id for service in services] == list(range(1, count + 1))
    assert {service.type for service in services} == set(ServiceType)
    assert len({service.name for service in services}) == count


def test_it_keeps_services_consistent() -> None:
    for service in generate_catalogue(500, seed=9):
        assert 0 < service.rate < Decimal(200)
        assert 1 <= service.min <= service.max
        assert not service.dripfeed or service.type is ServiceType.DEFAULT


def test_it_serves_ten_thousand_services_fast(client: httpx.Client) -> None:
    started = time.monotonic()
    with run_simulator(services=10_000, seed=5) as sim:
        rows = client.post(sim.url, data={"key": sim.key, "action": "services"}).json()
        again = client.post(sim.url, data={"key": sim.key, "action": "services"}).json()
    elapsed = time.monotonic() - started

    assert len(rows) == 10_000
    assert rows == again
    assert rows[-1]["service"] == 10_000
    assert elapsed < 1.5


def test_it_applies_catalogue_edits_at_run_time(sim: Simulator, api: Api) -> None:
    sim.state.update_service(1, rate="7.25", refill=False)
    sim.state.remove_service(2)
    added = sim.state.add_service(name="Brand new", type="seo", rate="0.5", min=5, max=50)

    rows = {row["service"]: row for row in api(action="services")}

    assert (rows[1]["rate"], rows[1]["refill"]) == ("7.25", False)
    assert 2 not in rows
    assert rows[added.id]["type"] == "SEO"
    add = {"action": "add", "link": "https://example.com", "quantity": "10"}
    assert api(**add, service=2) == {"error": "Incorrect service ID"}
    order = api(**add, service=added.id, keywords="cats")["order"]
    assert api(action="status", order=order)["charge"] == "0.005"


def test_it_refuses_an_unknown_service_type(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="Unknown service type"):
        sim.state.add_service(name="Odd", type="Teleport")
