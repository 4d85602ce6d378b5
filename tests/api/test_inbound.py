"""Issue 17: one strict reading of every number and text a customer sends, on every channel."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import LedgerEntry, User
from catalog.models import Service
from orders.errors import PlacementError
from orders.models import Order
from orders.services import order_place
from panel.inbound import parse_count
from tests.api.conftest import V2, V2Call
from tests.factories import ServiceFactory

LINK = "https://instagram.com/p/inbound"
# Python's int() reads every one of these as a number.
ODD_NUMBERS = ["١٠٠", "１００", "𝟙𝟘𝟘", "+100", "1_000", "0100", "100.0", " -100", "1e3", "²"]


def assert_nothing_written(customer: User) -> None:
    assert not Order.objects.exists()
    assert not LedgerEntry.objects.exclude(kind=LedgerEntry.Kind.DEPOSIT).exists()
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("100", 100), (" 42 ", 42), (7, 7), ("9" * 19, int("9" * 19))]
    + [(odd, None) for odd in ODD_NUMBERS]
    + [("9" * 20, None), ("", None), (True, None), (-1, None), (None, None), ("1\x00", None)],
)
def test_it_reads_only_ascii_decimal_digits(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected


@pytest.mark.parametrize("quantity", ODD_NUMBERS)
def test_it_refuses_a_quantity_in_other_digits_or_python_syntax_on_v2(
    v2: V2Call, key: str, service: Service, customer: User, quantity: str
) -> None:
    answer = v2(key=key, action="add", service=str(service.pk), link=LINK, quantity=quantity)
    assert answer == {"error": "Incorrect request"}
    assert_nothing_written(customer)


@pytest.mark.parametrize("field", ["runs", "interval"])
@pytest.mark.parametrize("value", ["٣", "+3", "0_3", "03"])
def test_it_refuses_drip_feed_numbers_in_other_digits(
    v2: V2Call, key: str, customer: User, field: str, value: str
) -> None:
    drip = ServiceFactory(dripfeed=True)
    fields = {"runs": "3", "interval": "10", field: value}
    answer = v2(key=key, action="add", service=str(drip.pk), link=LINK, quantity="100", **fields)
    assert answer == {"error": "Incorrect request"}
    assert_nothing_written(customer)


def test_it_forwards_the_parsed_numbers_not_the_customers_text(
    v2: V2Call, key: str, customer: User
) -> None:
    drip = ServiceFactory(dripfeed=True)
    answer = v2(
        via="json",
        key=key,
        action="add",
        service=drip.pk,
        link=LINK,
        quantity=" 100 ",
        runs=3,
        interval="10",
    )
    order = Order.objects.get(pk=answer["order"])
    assert order.fields == {"link": LINK, "quantity": "100", "runs": "3", "interval": "10"}
    assert (order.quantity, order.runs, order.interval) == (100, 3, 10)


@pytest.mark.parametrize("field", ["request_id", "link", "key"])
def test_it_answers_incorrect_request_to_a_lone_surrogate(
    client: Client, key: str, service: Service, customer: User, field: str
) -> None:
    fields = {"key": key, "action": "add", "service": service.pk, "link": LINK, "quantity": 100}
    fields[field] = "https://example.com/\udfff"
    body = json.dumps(fields)  # ensure_ascii: the surrogate travels as the escape \udfff
    response = client.post(V2, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}
    assert_nothing_written(customer)


@pytest.mark.parametrize("value", ["a\x01b", "a\x7fb", "a\x9bb"])
def test_it_refuses_control_characters_in_a_request_id(
    v2: V2Call, key: str, service: Service, customer: User, value: str
) -> None:
    answer = v2(
        via="json",
        key=key,
        action="add",
        service=service.pk,
        link=LINK,
        quantity="100",
        request_id=value,
    )
    assert answer == {"error": "Incorrect request"}
    assert_nothing_written(customer)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=latin-1", b"key=k&action=balance"),
        ("application/x-www-form-urlencoded; charset=utf-16", "key=k".encode("utf-16")),
        ("multipart/form-data; boundary=x; charset=latin-1", b"--x--"),
        ("application/json", b"[" * 100_000),
        ("application/json; charset=utf-16", b"\xff\xfe{\x00}"),
        ("text/plain; charset=no-such-codec", b"key=k&action=balance"),
    ],
)
def test_it_answers_json_to_bodies_django_cannot_read(
    client: Client, db: None, content_type: str, body: bytes
) -> None:
    response = client.generic("POST", V2, body, content_type=content_type)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() in ({"error": "Incorrect request"}, {"error": "Invalid API key"})


def test_it_answers_json_to_too_many_fields(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=1" for i in range(20))
    response = client.post(V2, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}


def test_it_answers_json_to_a_body_too_big(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(V2, {"key": "k" * 500, "action": "balance"})
    assert response.status_code == 200
    assert response.json() == {"error": "Incorrect request"}


def test_it_refuses_leading_zeros_in_the_service_id_and_in_order_ids(
    v2: V2Call, key: str, service: Service, customer: User
) -> None:
    answer = v2(key=key, action="add", service=f"0{service.pk}", link=LINK, quantity="100")
    assert answer == {"error": "Incorrect service ID"}
    assert_nothing_written(customer)


# --- the other channels ---------------------------------------------------------------------


@pytest.mark.parametrize("quantity", ["１００", "+100", "1_000", "0100", "100.0", True])
def test_it_refuses_a_quantity_in_other_digits_on_the_rest_api(
    client: Client, key: str, service: Service, customer: User, quantity: object
) -> None:
    body = {"service": service.pk, "link": LINK, "quantity": quantity}
    response = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_X_API_KEY=key
    )
    assert response.status_code == 400
    assert "quantity" in json.dumps(response.json())
    assert_nothing_written(customer)


def test_it_takes_a_json_integer_or_ascii_digits_on_the_rest_api(
    client: Client, key: str, service: Service
) -> None:
    for quantity, link in ((100, LINK), ("200", LINK + "2")):
        body = {"service": service.pk, "link": link, "quantity": quantity}
        response = client.post(
            "/api/v1/orders/", body, content_type="application/json", HTTP_X_API_KEY=key
        )
        assert response.status_code == 201, response.content
    # Read in Python: SQLite's JSON extraction turns "100" into 100.
    assert sorted(order.fields["quantity"] for order in Order.objects.all()) == ["100", "200"]


@pytest.mark.parametrize("quantity", ["１００", "+100", "1_000", "0100"])
def test_it_shows_a_field_error_for_a_quantity_in_other_digits_on_the_web_form(
    client: Client, customer: User, service: Service, quantity: str
) -> None:
    client.force_login(customer)
    response = client.post(
        "/orders/new/", {"service": service.pk, "link": LINK, "quantity": quantity}
    )
    assert response.status_code == 400
    assert "“Quantity” must be a whole number from 10 to 10000." in response.content.decode()
    assert_nothing_written(customer)


def test_it_translates_the_field_error_with_the_fields_label(
    client: Client, customer: User, service: Service
) -> None:
    customer.language = "ru"
    customer.save(update_fields=["language"])
    client.force_login(customer)
    response = client.post("/orders/new/", {"service": service.pk, "link": LINK, "quantity": "-5"})
    page = response.content.decode()
    assert "Поле «Количество» должно быть целым числом от 10 до 10000." in page
    assert "must be" not in page


def test_it_refuses_a_mass_order_line_with_a_service_id_in_other_digits(
    client: Client, customer: User, service: Service
) -> None:
    client.force_login(customer)
    lines = f"０{service.pk} | {LINK} | 100\n0{service.pk} | {LINK}2 | 100"
    response = client.post("/orders/mass/", {"orders": lines})
    assert response.status_code < 500
    assert response.content.decode().count("The service ID must be a number.") == 2
    assert_nothing_written(customer)


@pytest.mark.parametrize("idempotency_key", ["key\udfff", "key\x00", "key\x1b"])
def test_it_refuses_an_idempotency_key_it_cannot_store_before_any_query(
    customer: User, service: Service, idempotency_key: str
) -> None:
    with pytest.raises(PlacementError) as caught:
        order_place(
            user=customer,
            service_id=service.pk,
            fields={"link": LINK, "quantity": "100"},
            source=Order.Source.WEB,
            idempotency_key=idempotency_key,
        )
    assert caught.value.api_error == "Incorrect request"
    assert_nothing_written(customer)


def test_it_answers_400_to_json_nested_past_the_stack_on_the_rest_api(
    client: Client, key: str, customer: User
) -> None:
    response = client.generic(
        "POST", "/api/v1/orders/", b"[" * 100_000, content_type="application/json",
        HTTP_X_API_KEY=key,
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert_nothing_written(customer)
