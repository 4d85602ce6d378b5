"""The SMM API v2 endpoint: every action, every error sentence, every input style."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.services import api_key_rotate
from catalog.models import Service, UserRate
from orders.models import Order, Refill
from tests.api.conftest import V2, V2Call
from tests.conftest import fund
from tests.factories import CategoryFactory, ServiceFactory

LINK = "https://instagram.com/p/abc"


def place(v2: V2Call, key: str, service: Service, link: str = LINK, **fields: str) -> int:
    answer = v2(key=key, action="add", service=service.pk, link=link, quantity="100", **fields)
    return int(answer["order"])


def mark(order_id: int, **changes: object) -> None:
    """Move an order along as the orders workers would (test setup only)."""
    Order.objects.filter(pk=order_id).update(**changes)


# --- transport, key, action -------------------------------------------------------------------


@pytest.mark.parametrize("via", ["form", "get", "json"])
def test_it_answers_every_input_style(v2: V2Call, key: str, via: str) -> None:
    assert v2(via=via, key=key, action="balance") == {"balance": "100.00", "currency": "USD"}


def test_it_takes_the_key_from_the_x_api_key_header(v2: V2Call, key: str) -> None:
    answer = v2(action="balance", headers={"X-Api-Key": key})
    assert answer == {"balance": "100.00", "currency": "USD"}


def test_it_answers_with_compact_json_without_a_csrf_token(key: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(V2, {"key": key, "action": "balance"})
    assert response.status_code == 200
    assert response.content == b'{"balance":"100.00","currency":"USD"}'


def test_it_accepts_a_form_body_without_content_type(client: Client, key: str) -> None:
    body = f"key={key}&action=balance"
    response = client.generic("POST", V2, body, content_type="")
    assert response.json() == {"balance": "100.00", "currency": "USD"}


def test_it_answers_with_the_trailing_slash_too(client: Client, key: str) -> None:
    response = client.post(V2 + "/", {"key": key, "action": "balance"})
    assert response.json() == {"balance": "100.00", "currency": "USD"}


@pytest.mark.parametrize("bad_key", ["", "nope", "x" * 500, "0123456789abcdef" * 4])
def test_it_refuses_a_bad_key(v2: V2Call, bad_key: str, customer: User) -> None:
    assert v2(key=bad_key, action="balance") == {"error": "Invalid API key"}


def test_it_refuses_a_revoked_key_and_an_inactive_user(
    v2: V2Call, key: str, customer: User
) -> None:
    User.objects.filter(pk=customer.pk).update(is_active=False)
    assert v2(key=key, action="balance") == {"error": "Invalid API key"}


@pytest.mark.parametrize("action", ["", "nope", "delete", "services2"])
def test_it_refuses_an_unknown_action(v2: V2Call, key: str, action: str) -> None:
    assert v2(key=key, action=action) == {"error": "Incorrect action"}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"key": {"a": 1}}', b'{"key": NaN}', b'{"a": "\\u0000"}'],
)
def test_it_answers_incorrect_request_to_unreadable_bodies(
    client: Client, key: str, body: bytes
) -> None:
    response = client.post(V2, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}


# --- services, balance --------------------------------------------------------------------------


def test_it_lists_services_at_the_callers_prices(
    v2: V2Call, key: str, customer: User, service: Service
) -> None:
    custom = ServiceFactory(
        name="Likes", type="Package", rate="5.00000", category=service.category, dripfeed=True
    )
    UserRate.objects.create(user=customer, service=custom, rate=Decimal("4.25"))
    ServiceFactory(name="Hidden", is_enabled=False, category=service.category)
    assert v2(key=key, action="services") == [
        {
            "service": service.pk,
            "name": "Instagram Followers",
            "type": "Default",
            "category": service.category.name,
            "rate": "1.30",
            "min": "10",
            "max": "10000",
            "refill": True,
            "cancel": True,
            "dripfeed": False,
            "desc": "",
        },
        {
            "service": custom.pk,
            "name": "Likes",
            "type": "Package",
            "category": service.category.name,
            "rate": "4.25",
            "min": "10",
            "max": "10000",
            "refill": False,
            "cancel": False,
            "dripfeed": True,
            "desc": "",
        },
    ]


def test_it_lists_a_big_catalogue_in_constant_queries(
    v2: V2Call, key: str, django_assert_max_num_queries: object
) -> None:
    provider = ServiceFactory().provider
    category = CategoryFactory()
    Service.objects.bulk_create(
        ServiceFactory.build(category=category, provider=provider) for _ in range(300)
    )
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        assert len(v2(key=key, action="services")) == 301


def test_it_answers_the_balance(v2: V2Call, key: str, customer: User) -> None:
    fund(customer, "0.84292")
    assert v2(key=key, action="balance") == {"balance": "100.84292", "currency": "USD"}


# --- add ----------------------------------------------------------------------------------------


def test_it_places_an_order_and_charges_it(
    v2: V2Call, key: str, customer: User, service: Service
) -> None:
    answer = v2(key=key, action="add", service=str(service.pk), link=LINK, quantity="1000")
    order = Order.objects.get()
    assert answer == {"order": order.pk}
    assert (order.user, order.service, order.link, order.quantity) == (
        customer,
        service,
        LINK,
        1000,
    )
    assert order.source == Order.Source.API_V2
    assert order.charge == Decimal("1.30")
    customer.refresh_from_db()
    assert customer.balance == Decimal("98.70")


def test_it_places_drip_feed_and_list_types_from_json(v2: V2Call, key: str, customer: User) -> None:
    drip = ServiceFactory(dripfeed=True)
    comments = ServiceFactory(type="Custom Comments", min_quantity=1)
    a = v2(
        via="json",
        key=key,
        action="add",
        service=drip.pk,
        link=LINK,
        quantity=100,
        runs=3,
        interval=30,
    )
    b = v2(
        via="json",
        key=key,
        action="add",
        service=comments.pk,
        link=LINK + "2",
        comments="nice\r\ngreat\nwow",
    )
    first, second = Order.objects.get(pk=a["order"]), Order.objects.get(pk=b["order"])
    assert (first.quantity, first.runs, first.interval, first.charge) == (
        100,
        3,
        30,
        Decimal("0.39"),
    )
    assert (second.type, second.quantity) == ("Custom Comments", 3)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"service": "999999"}, "Incorrect service ID"),
        ({"service": "abc"}, "Incorrect service ID"),
        ({"service": ""}, "Incorrect service ID"),
        ({"link": ""}, "Incorrect link"),
        ({"link": "not a link"}, "Incorrect link"),
        ({"quantity": "5"}, "Quantity less than minimal 10"),
        ({"quantity": "10001"}, "Quantity more than maximum 10000"),
        ({"quantity": "90000"}, "Quantity more than maximum 10000"),
        ({"quantity": "ten"}, "Incorrect request"),
        ({"request_id": "r" * 129}, "Incorrect request"),
    ],
)
def test_it_refuses_bad_orders_with_canonical_sentences(
    v2: V2Call, key: str, service: Service, customer: User, fields: dict[str, str], error: str
) -> None:
    params = {"service": str(service.pk), "link": LINK, "quantity": "100", **fields}
    assert v2(key=key, action="add", **params) == {"error": error}
    assert not Order.objects.exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00")


def test_it_refuses_a_disabled_service(v2: V2Call, key: str, service: Service) -> None:
    Service.objects.filter(pk=service.pk).update(is_enabled=False)
    assert v2(key=key, action="add", service=service.pk, link=LINK, quantity="100") == {
        "error": "Incorrect service ID"
    }


def test_it_refuses_an_order_the_balance_does_not_cover(
    v2: V2Call, key: str, customer: User
) -> None:
    dear = ServiceFactory(rate="20000.00000")
    answer = v2(key=key, action="add", service=dear.pk, link=LINK, quantity="100")
    assert answer == {"error": "Not enough funds on balance"}
    assert not Order.objects.exists()


def test_it_refuses_a_second_active_order_on_one_link(
    v2: V2Call, key: str, service: Service
) -> None:
    place(v2, key, service)
    assert v2(key=key, action="add", service=service.pk, link=LINK, quantity="100") == {
        "error": "You have active order with this link. Please wait until order being completed."
    }
    assert Order.objects.count() == 1


def test_it_replays_an_add_with_the_same_request_id(
    v2: V2Call, key: str, service: Service, customer: User
) -> None:
    first = place(v2, key, service, request_id="abc-1")
    again = v2(
        key=key, action="add", service=service.pk, link=LINK, quantity="100", request_id="abc-1"
    )
    assert again == {"order": first}
    assert Order.objects.count() == 1
    assert LedgerEntry.objects.filter(user=customer, kind="order_charge").count() == 1
    different = v2(
        key=key, action="add", service=service.pk, link=LINK, quantity="200", request_id="abc-1"
    )
    assert different == {"error": "Incorrect request"}
    assert Order.objects.count() == 1


# --- status ---------------------------------------------------------------------------------------


def test_it_answers_the_status_of_one_order(v2: V2Call, key: str, service: Service) -> None:
    order_id = place(v2, key, service)
    assert v2(key=key, action="status", order=order_id) == {
        "charge": "0.13",
        "start_count": "0",
        "status": "Pending",
        "remains": "100",
        "currency": "USD",
    }
    mark(
        order_id,
        status=Order.Status.PARTIAL,
        start_count=3572,
        remains=40,
        refunded=Decimal("0.05"),
    )
    assert v2(key=key, action="status", order=str(order_id)) == {
        "charge": "0.08",
        "start_count": "3572",
        "status": "Partial",
        "remains": "40",
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("internal", "canonical"),
    [
        ("queued", "Pending"),
        ("sending", "Pending"),
        ("sent", "Pending"),
        ("needs_review", "Pending"),
        ("in_progress", "In progress"),
        ("completed", "Completed"),
        ("partial", "Partial"),
        ("canceled", "Canceled"),
        ("failed", "Canceled"),
        ("active", "Active"),
        ("paused", "Paused"),
        ("expired", "Expired"),
    ],
)
def test_it_maps_every_status_to_a_canonical_string(
    v2: V2Call, key: str, service: Service, internal: str, canonical: str
) -> None:
    order_id = place(v2, key, service)
    mark(order_id, status=internal)
    assert v2(key=key, action="status", order=order_id)["status"] == canonical


def test_it_answers_statuses_of_many_orders_keyed_by_id(
    v2: V2Call, key: str, other_key: str, service: Service
) -> None:
    mine = place(v2, key, service)
    theirs = v2(key=other_key, action="add", service=service.pk, link=LINK + "x", quantity="10")
    mark(mine, status=Order.Status.COMPLETED, start_count=10)
    answer = v2(key=key, action="status", orders=f"{mine}, {theirs['order']},abc,{mine},-1")
    assert answer == {
        str(mine): {
            "charge": "0.13",
            "start_count": "10",
            "status": "Completed",
            "remains": "0",
            "currency": "USD",
        },
        str(theirs["order"]): {"error": "Incorrect order ID"},
        "abc": {"error": "Incorrect order ID"},
        "-1": {"error": "Incorrect order ID"},
    }


@pytest.mark.parametrize("order", ["", "abc", "0", "99999999999999999999999", "1.5"])
def test_it_refuses_a_bad_order_id(v2: V2Call, key: str, order: str) -> None:
    assert v2(key=key, action="status", order=order) == {"error": "Incorrect order ID"}


def test_it_hides_other_users_orders(
    v2: V2Call, key: str, other_key: str, service: Service
) -> None:
    order_id = place(v2, key, service)
    for action in ("status", "refill", "cancel"):
        assert v2(key=other_key, action=action, order=order_id) == {"error": "Incorrect order ID"}
    assert Order.objects.get(pk=order_id).status == Order.Status.QUEUED


def test_it_refuses_more_than_100_ids(v2: V2Call, key: str) -> None:
    ids = ",".join(str(i) for i in range(1, 102))
    for action, field in (
        ("status", "orders"),
        ("refill", "orders"),
        ("cancel", "orders"),
        ("refill_status", "refills"),
    ):
        assert v2(key=key, action=action, **{field: ids}) == {"error": "Incorrect request"}


def test_it_answers_100_statuses_in_constant_queries(
    v2: V2Call, key: str, customer: User, service: Service
) -> None:
    rows = Order.objects.bulk_create(
        Order(
            user=customer,
            service=service,
            provider=service.provider,
            upstream_service_id=service.upstream_id,
            type="Default",
            link=f"{LINK}/{i}",
            quantity=100,
            rate=Decimal("1.3"),
            charge=Decimal("0.13"),
        )
        for i in range(100)
    )
    ids = [order.pk for order in rows]
    v2(key=key, action="balance")  # the key's first use of the minute records it (one UPDATE)
    with CaptureQueriesContext(connection) as one:
        v2(key=key, action="status", orders=str(ids[0]))
    with CaptureQueriesContext(connection) as hundred:
        answer = v2(key=key, action="status", orders=",".join(map(str, ids)))
    assert len(answer) == 100
    assert len(hundred.captured_queries) == len(one.captured_queries) == 2  # key, orders


# --- refill, refill_status, cancel ---------------------------------------------------------------


def completed(v2: V2Call, key: str, service: Service, link: str = LINK) -> int:
    order_id = int(
        v2(key=key, action="add", service=service.pk, link=link, quantity="100")["order"]
    )
    mark(
        order_id,
        status=Order.Status.COMPLETED,
        upstream_order_id=f"up{order_id}",
        finished_at=timezone.now(),
        remains=0,
    )
    return order_id


def test_it_requests_a_refill_and_reports_its_status(
    v2: V2Call, key: str, service: Service
) -> None:
    order_id = completed(v2, key, service)
    answer = v2(key=key, action="refill", order=order_id)
    refill = Refill.objects.get()
    assert answer == {"refill": str(refill.pk)}
    assert v2(key=key, action="refill_status", refill=refill.pk) == {"status": "Pending"}
    assert v2(key=key, action="refill", order=order_id) == {
        "error": "Refill is not available for this order"
    }
    Refill.objects.filter(pk=refill.pk).update(status=Refill.Status.COMPLETED)
    assert v2(key=key, action="refill_status", refills=f"{refill.pk},999,x") == [
        {"refill": refill.pk, "status": "Completed"},
        {"refill": 999, "status": {"error": "Refill not found"}},
        {"refill": "x", "status": {"error": "Refill not found"}},
    ]
    again = v2(key=key, action="refill", order=order_id)
    assert again == {"refill": str(Refill.objects.exclude(pk=refill.pk).get().pk)}


def test_it_requests_refills_of_many_orders(v2: V2Call, key: str, service: Service) -> None:
    done = completed(v2, key, service)
    pending = place(v2, key, service, link=LINK + "2")
    answer = v2(key=key, action="refill", orders=f"{done},{pending},424242")
    refill = Refill.objects.get()
    assert answer == [
        {"order": done, "refill": refill.pk},
        {"order": pending, "refill": {"error": "Refill is not available for this order"}},
        {"order": 424242, "refill": {"error": "Incorrect order ID"}},
    ]


def test_it_hides_other_users_refills(
    v2: V2Call, key: str, other_key: str, service: Service
) -> None:
    v2(key=key, action="refill", order=completed(v2, key, service))
    refill = Refill.objects.get()
    assert v2(key=other_key, action="refill_status", refill=refill.pk) == {
        "error": "Refill not found"
    }


def test_it_cancels_orders(v2: V2Call, key: str, service: Service, customer: User) -> None:
    queued = place(v2, key, service)
    done = completed(v2, key, service, link=LINK + "2")
    answer = v2(key=key, action="cancel", orders=f"{queued},{done},7777")
    assert answer == [
        {"order": queued, "cancel": 1},
        {"order": done, "cancel": {"error": "Order can't be canceled"}},
        {"order": 7777, "cancel": {"error": "Incorrect order ID"}},
    ]
    assert Order.objects.get(pk=queued).status == Order.Status.CANCELED
    customer.refresh_from_db()
    assert customer.balance == Decimal("99.87")  # the queued one was refunded


def test_it_cancels_a_single_order(v2: V2Call, key: str, service: Service) -> None:
    assert v2(key=key, action="cancel", order=place(v2, key, service)) == {"cancel": 1}
    assert v2(key=key, action="cancel", order="x") == {"error": "Incorrect order ID"}


def test_it_keeps_keys_apart_between_users(v2: V2Call, customer: User, other_user: User) -> None:
    key = api_key_rotate(user=other_user)
    assert v2(key=key, action="balance") == {"balance": "50.00", "currency": "USD"}


def test_it_never_lets_json_numbers_become_floats(
    client: Client, key: str, service: Service
) -> None:
    body = json.dumps(
        {"key": key, "action": "add", "service": service.pk, "link": LINK, "quantity": 100.5}
    )
    response = client.post(V2, body, content_type="application/json")
    assert response.json() == {"error": "Incorrect request"}
