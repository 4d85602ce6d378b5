import json
from decimal import Decimal

import httpx
import pytest

from panel.smmapi.protocol import ServiceType
from simulator import Simulator
from tests.simulator.conftest import Api

LINK = "https://instagram.com/p/abc123"
T = ServiceType

# One valid add per type, for a service with min 1 and max 1000; with the charge at rate 2.00.
VALID_ADDS: dict[ServiceType, tuple[dict[str, str], str]] = {
    T.DEFAULT: ({"link": LINK, "quantity": "100"}, "0.20"),
    T.PACKAGE: ({"link": LINK}, "2.00"),
    T.CUSTOM_COMMENTS: ({"link": LINK, "comments": "nice\r\nwow\n\ngreat"}, "0.006"),
    T.MENTIONS: ({"link": LINK, "quantity": "50", "usernames": "alice\nbob"}, "0.10"),
    T.MENTIONS_WITH_HASHTAGS: (
        {"link": LINK, "quantity": "50", "usernames": "alice", "hashtags": "#a\n#b"},
        "0.10",
    ),
    T.MENTIONS_CUSTOM_LIST: ({"link": LINK, "usernames": "alice\nbob"}, "0.004"),
    T.MENTIONS_HASHTAG: ({"link": LINK, "quantity": "50", "hashtag": "#cats"}, "0.10"),
    T.MENTIONS_USER_FOLLOWERS: (
        {"link": LINK, "quantity": "50", "username": "https://instagram.com/nasa"},
        "0.10",
    ),
    T.MENTIONS_MEDIA_LIKERS: (
        {"link": LINK, "quantity": "50", "media": "https://instagram.com/p/x"},
        "0.10",
    ),
    T.CUSTOM_COMMENTS_PACKAGE: ({"link": LINK, "comments": "one\ntwo"}, "2.00"),
    T.COMMENT_LIKES: ({"link": LINK, "quantity": "50", "username": "alice"}, "0.10"),
    T.COMMENT_REPLIES: ({"link": LINK, "username": "alice", "comments": "a\nb\nc\nd"}, "0.008"),
    T.POLL: ({"link": LINK, "quantity": "50", "answer_number": "2"}, "0.10"),
    T.INVITES_FROM_GROUPS: ({"link": LINK, "quantity": "50", "groups": "t.me/a\nt.me/b"}, "0.10"),
    T.SEO: ({"link": LINK, "quantity": "50", "keywords": "buy cats\ncheap cats"}, "0.10"),
    # Charged max x posts: 2.00 x 200 x 3 / 1000.
    T.SUBSCRIPTIONS: (
        {"username": "nasa", "min": "100", "max": "200", "posts": "3", "delay": "30"},
        "1.20",
    ),
}

# Per type: fields that break the add, and the sentence expected.
BAD = "Incorrect request"
TOO_FEW = "Quantity less than minimal 1"
TOO_MANY = "Quantity more than maximum 1000"
SUB = {"username": "nasa", "min": "1", "max": "2"}
INVALID_ADDS: list[tuple[ServiceType, dict[str, str], str]] = [
    (T.DEFAULT, {"link": "not a link", "quantity": "100"}, "Incorrect link"),
    (T.DEFAULT, {"link": "", "quantity": "100"}, "Incorrect link"),
    (T.DEFAULT, {"link": LINK}, TOO_FEW),
    (T.DEFAULT, {"link": LINK, "quantity": "0"}, TOO_FEW),
    (T.DEFAULT, {"link": LINK, "quantity": "1001"}, TOO_MANY),
    (T.DEFAULT, {"link": LINK, "quantity": "ten"}, BAD),
    (T.DEFAULT, {"link": LINK, "quantity": "10", "runs": "1", "interval": "5"}, BAD),
    (T.DEFAULT, {"link": LINK, "quantity": "10", "runs": "3"}, BAD),
    (T.PACKAGE, {"link": "two words"}, "Incorrect link"),
    (T.CUSTOM_COMMENTS, {"link": LINK, "comments": "\n\n"}, TOO_FEW),
    (T.CUSTOM_COMMENTS, {"link": LINK, "comments": "x\n" * 1001}, TOO_MANY),
    (T.MENTIONS, {"link": LINK, "quantity": "50"}, BAD),
    (T.MENTIONS_WITH_HASHTAGS, {"link": LINK, "quantity": "5", "usernames": "a"}, BAD),
    (T.MENTIONS_CUSTOM_LIST, {"link": LINK}, TOO_FEW),
    (T.MENTIONS_HASHTAG, {"link": LINK, "quantity": "50", "hashtag": " "}, BAD),
    (T.MENTIONS_USER_FOLLOWERS, {"link": LINK, "quantity": "50"}, BAD),
    (T.MENTIONS_MEDIA_LIKERS, {"link": LINK, "quantity": "50"}, BAD),
    (T.CUSTOM_COMMENTS_PACKAGE, {"link": LINK}, BAD),
    (T.COMMENT_LIKES, {"link": LINK, "quantity": "5000", "username": "a"}, TOO_MANY),
    (T.COMMENT_REPLIES, {"link": LINK, "comments": "a"}, BAD),
    (T.POLL, {"link": LINK, "quantity": "50", "answer_number": "0"}, BAD),
    (T.POLL, {"link": LINK, "quantity": "50"}, BAD),
    (T.INVITES_FROM_GROUPS, {"link": LINK, "quantity": "50"}, BAD),
    (T.SEO, {"link": LINK, "quantity": "50", "keywords": ""}, BAD),
    (T.SUBSCRIPTIONS, {**SUB, "username": ""}, BAD),
    (T.SUBSCRIPTIONS, {**SUB, "min": "0"}, TOO_FEW),
    (T.SUBSCRIPTIONS, {**SUB, "max": "2000"}, TOO_MANY),
    (T.SUBSCRIPTIONS, {**SUB, "min": "9"}, BAD),
    (T.SUBSCRIPTIONS, {**SUB, "delay": "7"}, BAD),
    (T.SUBSCRIPTIONS, {**SUB, "expiry": "31/02/2030"}, BAD),
    (T.SUBSCRIPTIONS, {**SUB, "posts": "0"}, BAD),
]


@pytest.fixture
def typed(sim: Simulator) -> dict[ServiceType, int]:
    """One service per type with round numbers: rate 2.00, min 1, max 1000, all flags on."""
    return {
        service_type: sim.state.add_service(
            name=f"Test {service_type}",
            type=service_type,
            rate="2.00",
            min=1,
            max=1000,
            refill=True,
            cancel=True,
            dripfeed=service_type is ServiceType.DEFAULT,
        ).id
        for service_type in ServiceType
    }


def test_it_lists_services_in_the_canonical_shape(api: Api) -> None:
    rows = api(action="services")

    assert len(rows) == 50
    assert {row["type"] for row in rows} == {t.value for t in ServiceType}
    first = rows[0]
    assert set(first) == {
        "service",
        "name",
        "type",
        "category",
        "rate",
        "min",
        "max",
        "refill",
        "cancel",
        "dripfeed",
        "desc",
    }
    assert isinstance(first["service"], int)
    assert all(isinstance(row[name], str) for row in rows for name in ("rate", "min", "max"))
    assert all(isinstance(row[name], bool) for row in rows for name in ("refill", "cancel"))
    assert all(Decimal(row["rate"]) > 0 for row in rows)
    assert {row["category"].split()[0] for row in rows} >= {
        "Instagram",
        "TikTok",
        "YouTube",
        "Telegram",
    }


def test_it_answers_the_balance(api: Api) -> None:
    assert api(action="balance") == {"balance": "1000.00", "currency": "USD"}


@pytest.mark.parametrize("key", ["", "wrong"])
def test_it_rejects_a_bad_key(api: Api, key: str) -> None:
    assert api(action="balance", key=key) == {"error": "Invalid API key"}


def test_it_rejects_an_unknown_action(api: Api) -> None:
    assert api(action="dance") == {"error": "Incorrect action"}
    assert api() == {"error": "Incorrect action"}


def test_it_accepts_get_json_header_key_and_multipart(sim: Simulator, client: httpx.Client) -> None:
    expected = {"balance": "1000.00", "currency": "USD"}
    assert client.get(sim.url, params={"key": sim.key, "action": "balance"}).json() == expected
    assert client.post(sim.url, json={"key": sim.key, "action": "balance"}).json() == expected
    by_header = client.post(sim.url, data={"action": "balance"}, headers={"X-Api-Key": sim.key})
    assert by_header.json() == expected
    multipart = client.post(
        sim.url, files={"key": (None, sim.key), "action": (None, "balance")}
    ).json()
    assert multipart == expected


@pytest.mark.parametrize("service_type", list(ServiceType))
def test_it_places_an_order_of_every_type(
    api: Api, sim: Simulator, typed: dict[ServiceType, int], service_type: ServiceType
) -> None:
    fields, charge = VALID_ADDS[service_type]

    answer = api(action="add", service=typed[service_type], **fields)

    assert answer == {"order": answer["order"]}
    status = api(action="status", order=answer["order"])
    assert status["charge"] == charge
    assert status["status"] == "Pending"
    assert sim.state.balance == Decimal("1000") - Decimal(charge)


@pytest.mark.parametrize(("service_type", "fields", "error"), INVALID_ADDS)
def test_it_validates_add_per_type(
    api: Api,
    sim: Simulator,
    typed: dict[ServiceType, int],
    service_type: ServiceType,
    fields: dict[str, str],
    error: str,
) -> None:
    assert api(action="add", service=typed[service_type], **fields) == {"error": error}
    assert sim.state.orders() == []
    assert sim.state.balance == Decimal("1000")


@pytest.mark.parametrize("service", ["", "abc", "999999", "-1"])
def test_it_rejects_an_incorrect_service(api: Api, service: str) -> None:
    answer = api(action="add", service=service, link=LINK, quantity="100")
    assert answer == {"error": "Incorrect service ID"}


def test_it_charges_drip_feed_per_run(api: Api, typed: dict[ServiceType, int]) -> None:
    service = typed[ServiceType.DEFAULT]

    order = api(action="add", service=service, link=LINK, quantity="100", runs="5", interval="30")

    status = api(action="status", order=order["order"])
    assert status == {
        "charge": "1.00",
        "start_count": "0",
        "status": "Pending",
        "remains": "500",
        "currency": "USD",
    }


def test_it_refuses_drip_feed_on_a_service_without_it(api: Api, sim: Simulator) -> None:
    service = sim.state.add_service(name="No drip", min=10, max=1000, dripfeed=False)
    answer = api(action="add", service=service.id, link=LINK, quantity="10", runs="2", interval="5")
    assert answer == {"error": "Incorrect request"}


def test_it_refuses_an_order_it_cannot_pay(api: Api, sim: Simulator) -> None:
    service = sim.state.add_service(name="Pricey", rate="10.00", min=10, max=1000)
    sim.state.set_balance("0.99")

    assert api(action="add", service=service.id, link=LINK, quantity="100") == {
        "error": "Not enough funds on balance"
    }
    assert api(action="add", service=service.id, link=LINK, quantity="99")["order"]
    assert api(action="balance") == {"balance": "0.00", "currency": "USD"}


def test_it_refuses_a_second_active_order_on_a_link(
    api: Api, sim: Simulator, typed: dict[ServiceType, int]
) -> None:
    service = typed[ServiceType.DEFAULT]
    first = api(action="add", service=service, link=LINK, quantity="100")

    assert api(action="add", service=service, link=LINK, quantity="100") == {
        "error": "You have active order with this link. Please wait until order being completed."
    }
    sim.state.finish_all()
    assert api(action="add", service=service, link=LINK, quantity="100")["order"] > first["order"]


def test_it_answers_status_for_many_orders(api: Api, typed: dict[ServiceType, int]) -> None:
    service = typed[ServiceType.DEFAULT]
    first = api(action="add", service=service, link=LINK, quantity="100")["order"]
    second = api(action="add", service=service, link=LINK + "2", quantity="300")["order"]

    answer = api(action="status", orders=f"{first}, {second},7,abc")

    pending = {"start_count": "0", "status": "Pending", "currency": "USD"}
    assert answer == {
        str(first): {**pending, "charge": "0.20", "remains": "100"},
        str(second): {**pending, "charge": "0.60", "remains": "300"},
        "7": {"error": "Incorrect order ID"},
        "abc": {"error": "Incorrect order ID"},
    }


def test_it_rejects_bad_status_requests(api: Api) -> None:
    assert api(action="status", order="12") == {"error": "Incorrect order ID"}
    assert api(action="status") == {"error": "Incorrect order ID"}
    many = ",".join(str(i) for i in range(101))
    assert api(action="status", orders=many) == {"error": "Incorrect request"}


def test_it_accepts_orders_as_an_array(
    sim: Simulator, client: httpx.Client, typed: dict[ServiceType, int]
) -> None:
    order = sim.state.place_order(
        {"service": str(typed[ServiceType.DEFAULT]), "link": LINK, "quantity": "10"}
    )
    body = f"key={sim.key}&action=status&orders[]={order}&orders[]=3"
    answer = client.post(
        sim.url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).json()
    assert set(answer) == {str(order), "3"}


def test_it_refills_completed_orders(
    api: Api, sim: Simulator, typed: dict[ServiceType, int]
) -> None:
    service = typed[ServiceType.DEFAULT]
    done = api(action="add", service=service, link=LINK, quantity="100")["order"]
    sim.state.finish_all()
    running = api(action="add", service=service, link=LINK + "/2", quantity="100")["order"]

    single = api(action="refill", order=done)
    assert single == {"refill": single["refill"]}
    assert isinstance(single["refill"], str)
    first_refill = int(single["refill"])
    assert api(action="refill_status", refill=first_refill) == {"status": "Pending"}
    assert api(action="refill", orders=f"{done},{running},5") == [
        {"order": done, "refill": {"error": "Refill is not available for this order"}},
        {"order": running, "refill": {"error": "Refill is not available for this order"}},
        {"order": 5, "refill": {"error": "Incorrect order ID"}},
    ]

    sim.state.finish_all()
    assert api(action="refill", orders=f"{running}") == [
        {"order": running, "refill": first_refill + 1}
    ]
    assert api(action="refill_status", refills=f"{first_refill},{first_refill + 1},x") == [
        {"refill": first_refill, "status": "Completed"},
        {"refill": first_refill + 1, "status": "Pending"},
        {"refill": "x", "status": {"error": "Refill not found"}},
    ]
    assert api(action="refill_status", refill="1") == {"error": "Refill not found"}
    assert api(action="refill_status") == {"error": "Refill not found"}


def test_it_refuses_refills_the_service_does_not_offer(api: Api, sim: Simulator) -> None:
    service = sim.state.add_service(name="No refill", min=10, max=1000, refill=False)
    order = api(action="add", service=service.id, link=LINK, quantity="10")["order"]
    sim.state.finish_all()

    assert api(action="refill", order=order) == {"error": "Refill is not available for this order"}


def test_it_cancels_single_and_many(
    api: Api, sim: Simulator, typed: dict[ServiceType, int]
) -> None:
    service = typed[ServiceType.DEFAULT]
    first = api(action="add", service=service, link=LINK, quantity="100")["order"]
    second = api(action="add", service=service, link=LINK + "2", quantity="100")["order"]
    third = api(action="add", service=service, link=LINK + "3", quantity="100")["order"]

    assert api(action="cancel", order=first) == {"cancel": "1"}
    assert api(action="cancel", orders=f"{first},{second},99") == [
        {"order": first, "cancel": {"error": "Order can't be canceled"}},
        {"order": second, "cancel": 1},
        {"order": 99, "cancel": {"error": "Incorrect order ID"}},
    ]
    assert api(action="status", order=second)["status"] == "Canceled"
    assert api(action="status", order=third)["status"] == "Pending"
    assert sim.state.balance == Decimal("999.80")


def test_it_refuses_to_cancel_on_a_service_without_cancel(api: Api, sim: Simulator) -> None:
    service = sim.state.add_service(name="No cancel", min=10, max=1000, cancel=False)
    order = api(action="add", service=service.id, link=LINK, quantity="10")["order"]

    assert api(action="cancel", order=order) == {"error": "Order can't be canceled"}


def test_it_never_answers_a_traceback(sim: Simulator, client: httpx.Client) -> None:
    garbage = client.post(
        sim.url, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert garbage.json() == {"error": "Incorrect request"}
    nested = client.post(sim.url, json={"key": sim.key, "action": {"x": 1}})
    assert nested.json() == {"error": "Incorrect request"}
    binary = client.post(sim.url, content=bytes(range(256)))
    assert binary.json() == {"error": "Invalid API key"}
    weird = client.post(
        sim.url, data={"key": sim.key, "action": "add", "service": "1" * 400, "link": "\x00"}
    )
    assert weird.json() == {"error": "Incorrect service ID"}
    missing = client.get(sim.url.replace("/api/v2", "/nope"))
    assert missing.status_code == 404
    assert json.loads(missing.text) == {"error": "Incorrect request"}
