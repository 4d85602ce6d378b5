from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from simulator import Simulator, run_simulator

Api = Callable[..., Any]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    # A frozen clock and no random endings: orders move only when a test says so.
    with run_simulator(port=0, seed=1, frozen_clock=True, partial_share=0, cancel_share=0) as s:
        yield s


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    # One client for the session: building its TLS context costs ~0.15 s.
    with httpx.Client(timeout=5) as c:
        yield c


@pytest.fixture
def api(sim: Simulator, client: httpx.Client) -> Api:
    """POST a form to the simulator with its key; return the decoded JSON answer."""

    def call(**fields: object) -> Any:
        response = client.post(sim.url, data={"key": sim.key, **fields})
        assert response.status_code == 200, response.text
        return response.json()

    return call
