from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from simulator import Simulator


def test_it_starts_from_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Simulator] = []

    def serve(sim: Simulator) -> None:
        started.append(sim)
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulator, "serve_forever", serve)
    out = StringIO()

    call_command(
        "simulate_provider",
        "--port=0",
        "--services=20",
        "--key=abc",
        "--balance=12.5",
        "--speed=3",
        "--cancel-share=0.2",
        "--error-rate=0.1",
        "--timeout-rate=0.3",
        "--fault-actions=add,status",
        "--allow-duplicate-links",
        stdout=out,
    )

    sim = started[0]
    assert sim.key == "abc"
    assert len(sim.state.services()) == 20
    assert str(sim.state.balance) == "12.50000"
    knobs: dict[str, Any] = sim.state.knobs.as_dict()
    assert knobs["speed"] == 3
    assert knobs["cancel_share"] == 0.2
    assert (knobs["error_rate"], knobs["timeout_rate"]) == (0.1, 0.3)
    assert knobs["actions"] == ["add", "status"]
    assert knobs["check_duplicate_links"] is False
    assert "Simulated provider on http://127.0.0.1:" in out.getvalue()
    assert "balance 12.50)" in out.getvalue()


def test_it_refuses_bad_knobs_on_the_command_line() -> None:
    with pytest.raises(CommandError, match="error_rate is a share between 0 and 1"):
        call_command("simulate_provider", "--port=0", "--error-rate=3")
