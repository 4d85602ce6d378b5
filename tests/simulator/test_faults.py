import json
import time
from decimal import ROUND_DOWN, Decimal

import httpx
import pytest

from simulator import Simulator
from simulator.money import fmt_money
from tests.simulator.conftest import Api

ADD = {"action": "add", "service": "1", "link": "https://instagram.com/someone", "quantity": "100"}


def post(sim: Simulator, client: httpx.Client, **fields: str) -> httpx.Response:
    return client.post(sim.url, data={"key": sim.key, **fields})


def test_it_adds_latency(sim: Simulator, api: Api) -> None:
    sim.state.set_knobs(latency_ms=60)

    started = time.monotonic()
    api(action="balance")

    assert time.monotonic() - started >= 0.06


def test_it_answers_random_errors_without_running_the_action(sim: Simulator, api: Api) -> None:
    sim.state.set_knobs(error_rate=1, error_text="Service is temporarily unavailable")

    assert api(**ADD) == {"error": "Service is temporarily unavailable"}
    assert sim.state.orders() == []


def test_it_answers_http_5xx(sim: Simulator, client: httpx.Client) -> None:
    sim.state.set_knobs(http_5xx_rate=1, http_5xx_status=503)

    response = post(sim, client, **ADD)

    assert response.status_code == 503
    assert response.json() == {"error": "Internal Server Error"}
    assert sim.state.orders() == []


def test_it_answers_http_5xx_after_storing_the_order(sim: Simulator, client: httpx.Client) -> None:
    sim.state.set_knobs(http_5xx_rate=1, http_5xx_after=True)

    assert post(sim, client, **ADD).status_code == 500
    assert len(sim.state.orders()) == 1


def test_it_answers_a_cloudflare_page(sim: Simulator, client: httpx.Client) -> None:
    sim.state.set_knobs(html_rate=1)

    response = post(sim, client, **ADD)

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "Cloudflare" in response.text
    assert sim.state.orders() == []


def test_it_answers_invalid_json_after_storing_the_order(
    sim: Simulator, client: httpx.Client
) -> None:
    sim.state.set_knobs(invalid_json_rate=1)

    response = post(sim, client, **ADD)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert len(sim.state.orders()) == 1


def test_it_times_out_only_after_storing_the_order(sim: Simulator, client: httpx.Client) -> None:
    sim.state.set_knobs(timeout_rate=1, timeout_seconds=2)

    with pytest.raises(httpx.ReadTimeout):
        client.post(sim.url, data={"key": sim.key, **ADD}, timeout=0.2)

    assert len(sim.state.orders()) == 1
    assert sim.counts["add"] == 1
    assert sim.state.balance < Decimal(1000)


def test_it_claims_no_funds_on_demand(sim: Simulator, api: Api) -> None:
    sim.state.set_knobs(funds_rate=1)

    assert api(**ADD) == {"error": "Not enough funds on balance"}
    assert api(action="balance") == {"balance": "1000.00", "currency": "USD"}


def test_it_spells_statuses_oddly(sim: Simulator, api: Api) -> None:
    first = sim.state.place_order({**ADD, "link": "a"})
    second = sim.state.place_order({**ADD, "link": "b"})
    third = sim.state.place_order({**ADD, "link": "c"})
    sim.state.advance(6)
    sim.state.set_order(second, status="Canceled")
    sim.state.set_order(third, status="Completed")
    sim.state.set_knobs(odd_status_rate=1)

    answer = api(action="status", orders=f"{first},{second},{third}")

    assert answer[str(first)]["status"] in {
        "in_progress",
        "inprogress",
        "In Progress",
        "processing",
    }
    assert answer[str(second)]["status"] in {"Cancelled", "canceled", "cancelled"}
    assert answer[str(third)]["status"] == "completed"


def test_it_sends_numbers_as_numbers(sim: Simulator, api: Api) -> None:
    order = sim.state.place_order(ADD)
    sim.state.set_knobs(int_numbers_rate=1)

    assert api(action="status", order=order) == {
        "charge": float(sim.state.order(order).charge),
        "start_count": 0,
        "status": "Pending",
        "remains": 100,
        "currency": "USD",
    }
    assert api(action="balance")["balance"] == float(sim.state.balance)
    row = api(action="services")[0]
    assert isinstance(row["min"], int)
    assert isinstance(row["rate"], float)
    assert row["refill"] is True


def test_it_scopes_faults_to_actions(sim: Simulator, api: Api) -> None:
    sim.state.set_knobs(error_rate=1, actions=["add"])
    assert api(**ADD) == {"error": "Incorrect request"}
    assert api(action="balance") == {"balance": "1000.00", "currency": "USD"}

    sim.state.set_knobs(actions=None, scopes={"error_rate": ["balance"]})
    assert api(**ADD)["order"]
    assert api(action="balance") == {"error": "Incorrect request"}


def test_it_injects_faults_at_the_configured_rate(sim: Simulator, api: Api) -> None:
    sim.state.set_knobs(error_rate=0.5)

    errors = sum("error" in api(action="balance") for _ in range(200))

    assert 60 < errors < 140


def test_it_counts_requests_by_action(sim: Simulator, api: Api) -> None:
    api(action="balance")
    api(action="balance")
    api(**ADD)
    api(action="dance")

    assert sim.counts == {"balance": 2, "add": 1, "unknown": 1}
    assert sim.counts["status"] == 0
    sim.state.reset_counts()
    assert sim.counts == {}


def test_it_shows_counts_and_knobs_on_the_control_endpoint(
    sim: Simulator, api: Api, client: httpx.Client
) -> None:
    api(action="balance")

    snapshot = client.get(sim.control_url).json()

    assert snapshot["counts"] == {"balance": 1}
    assert snapshot["knobs"]["error_rate"] == 0
    assert snapshot["knobs"]["speed"] == 20
    assert snapshot["balance"] == "1000.00"
    assert (snapshot["orders"], snapshot["refills"], snapshot["services"]) == (0, 0, 50)


def test_it_is_steered_through_the_control_endpoint(
    sim: Simulator, api: Api, client: httpx.Client
) -> None:
    order = api(**ADD)["order"]

    answer = client.post(
        sim.control_url,
        json={
            "knobs": {"error_rate": "1", "actions": "status,cancel", "latency_ms": 5},
            "balance": "50.5",
            "set_order": {"id": order, "status": "Partial", "remains": 40},
            "update_service": {"id": 1, "rate": "3.00", "refill": "false", "min": "5"},
            "add_service": {"name": "New", "type": "Poll", "rate": "0.5", "min": 1, "max": 9},
            "remove_service": 2,
            "reset_counts": True,
        },
    ).json()

    assert answer["knobs"]["error_rate"] == 1
    assert answer["knobs"]["actions"] == ["status", "cancel"]
    # The balance is set first, then the Partial refunds 40 of 100 units.
    refund = (sim.state.order(order).charge * 40 / 100).quantize(Decimal("0.00001"), ROUND_DOWN)
    assert Decimal(answer["balance"]) == Decimal("50.50") + refund
    assert answer["service"] == 51
    assert answer["counts"] == {}
    assert sim.state.order(order).status == "Partial"
    assert api(action="status", order=order) == {"error": "Incorrect request"}
    rows = {row["service"]: row for row in api(action="services")}
    assert (rows[1]["rate"], rows[1]["refill"], rows[1]["min"]) == ("3.00", False, "5")
    assert rows[51]["type"] == "Poll"
    assert 2 not in rows


def test_it_advances_and_finishes_through_the_control_endpoint(
    sim: Simulator, api: Api, client: httpx.Client
) -> None:
    order = api(**ADD)["order"]

    client.post(sim.control_url, json={"advance": 5})
    assert api(action="status", order=order)["status"] == "In progress"
    client.post(sim.control_url, json={"finish_all": True})
    assert api(action="status", order=order)["status"] == "Completed"
    client.post(sim.control_url, json={"reset": True})
    assert api(action="status", order=order) == {"error": "Incorrect order ID"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"knobs": {"nope": 1}}, "Unknown knob: nope"),
        ({"knobs": {"error_rate": 2}}, "error_rate is a share between 0 and 1"),
        ({"knobs": {"latency_ms": "soon"}}, "Bad value for latency_ms: 'soon'"),
        ({"explode": True}, "Unknown control command: explode"),
        ([1, 2], "the control body must be a JSON object"),
    ],
)
def test_it_rejects_bad_control_commands(
    sim: Simulator, client: httpx.Client, body: object, error: str
) -> None:
    response = client.post(sim.control_url, json=body)

    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_it_answers_429_without_running_the_action(sim: Simulator, client: httpx.Client) -> None:
    sim.state.set_knobs(rate_limit_rate=1, actions=["add"])

    response = post(sim, client, **ADD)

    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests"}
    assert sim.state.orders() == []
    assert post(sim, client, action="balance").status_code == 200


def test_it_shows_its_record_and_forgets_orders_through_the_control_endpoint(
    sim: Simulator, api: Api, client: httpx.Client
) -> None:
    first = api(**ADD)["order"]
    second = api(**{**ADD, "link": "https://example.com/other"})["order"]
    client.post(
        sim.control_url, json={"set_order": {"id": first, "status": "Partial", "remains": 40}}
    )

    record = client.get(f"{sim.base_url}/_control/orders").json()
    client.post(sim.control_url, json={"forget_order": [second]})

    charge = sim.state.order(first).charge
    refund = (charge * 40 / 100).quantize(Decimal("0.00001"), ROUND_DOWN)
    assert record[0] == {
        "id": first,
        "service": int(ADD["service"]),
        "link": ADD["link"],
        "quantity": 100,
        "charge": fmt_money(charge),
        "status": "Partial",
        "remains": 40,
        "refunded": fmt_money(refund),
    }
    assert [row["id"] for row in record] == [first, second]
    assert api(action="status", order=second) == {"error": "Incorrect order ID"}
    assert [row["id"] for row in client.get(f"{sim.base_url}/_control/orders").json()] == [first]
