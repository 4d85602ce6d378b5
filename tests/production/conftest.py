from collections.abc import Iterator

import pytest

from catalog.models import Provider
from catalog.services import provider_create
from simulator import Simulator, run_simulator

SIM_KEY = "sim-secret-key-prod-3"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with run_simulator(port=0, services=20, seed=5, key=SIM_KEY, frozen_clock=True) as s:
        yield s


@pytest.fixture
def provider(db: None, sim: Simulator) -> Provider:
    return provider_create(name="Sim", api_url=sim.url, api_key=SIM_KEY)
