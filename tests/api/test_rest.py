"""The REST API: every endpoint, its error bodies, authorization and Idempotency-Key."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import LedgerEntry, User
from catalog.models import Service
from orders.models import Order, Refill
from tests.factories import ServiceFactory

LINK = "https://instagram.com/p/rest"


@pytest.fixture
def api(client: Client, key: str) -> Any:
    def call(method: str, path: str, data: Any = None, **headers: str) -> Any:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        extra["HTTP_X_API_KEY"] = key
        if method == "get":
            return client.get(f"/api/v1/{path}", data or {}, **extra)
        return client.post(f"/api/v1/{path}", data or {}, content_type="application/json", **extra)

    return call


def order_body(order: Order, **changes: Any) -> dict[str, Any]:
    body = {
        "id": order.pk,
        "service": order.service_id,
        "service_name": order.service.name,
        "type": "Default",
        "link": LINK,
        "quantity": 100,
        "runs": None,
        "interval": None,
        "fields": order.fields,
        "status": "Pending",
        "charge": "0.13",
        "refunded": "0.00",
        "currency": "USD",
        "start_count": None,
        "remains": 100,
        "customer_message": "",
        "created_at": order.created_at.isoformat().replace("+00:00", "Z"),
        "finished_at": None,
    }
    return {**body, **changes}


def test_it_requires_credentials(client: Client, db: None) -> None:
    response = client.get("/api/v1/balance/")
    assert response.status_code == 401
    assert response.json() == {
        "error": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_it_accepts_the_browser_session(client: Client, customer: User) -> None:
    client.force_login(customer)
    response = client.get("/api/v1/balance/")
    assert response.json() == {"balance": "100.00", "currency": "USD"}


def test_it_lists_filters_and_searches_services(api: Any, service: Service) -> None:
    other = ServiceFactory(name="YouTube Views", type="Package")
    response = api("get", "services/", {"search": "youtube"})
    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": other.pk,
                "name": "YouTube Views",
                "type": "Package",
                "category": {"id": other.category_id, "name": other.category.name},
                "rate": "1.30",
                "min": 10,
                "max": 10000,
                "refill": False,
                "cancel": False,
                "dripfeed": False,
                "description": "",
            }
        ],
    }
    assert api("get", "services/", {"type": "Default"}).json()["count"] == 1
    assert api("get", "services/", {"category": service.category_id}).json()["count"] == 1
    bad = api("get", "services/", {"category": "abc", "type": "Nope"})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "Invalid input.",
        "code": "invalid",
        "fields": {
            "category": ["A valid integer is required."],
            "type": ['"Nope" is not a valid choice.'],
        },
    }
    assert api("get", f"services/{service.pk}/").json()["rate"] == "1.30"
    assert api("get", "services/999999/").json() == {"error": "Not found.", "code": "not_found"}


def test_it_creates_lists_and_retrieves_orders(api: Any, service: Service, customer: User) -> None:
    response = api("post", "orders/", {"service": service.pk, "link": LINK, "quantity": 100})
    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json() == order_body(order)
    assert order.source == Order.Source.REST
    customer.refresh_from_db()
    assert customer.balance == Decimal("99.87")
    assert api("get", f"orders/{order.pk}/").json() == order_body(order)
    listing = api("get", "orders/", {"status": "Pending", "service": service.pk}).json()
    assert listing["count"] == 1
    assert api("get", "orders/", {"status": "Completed"}).json()["count"] == 0


def test_it_refuses_orders_with_the_service_sentence_and_field(api: Any, service: Service) -> None:
    response = api("post", "orders/", {"service": service.pk, "link": LINK, "quantity": 5})
    assert response.status_code == 400
    assert response.json() == {
        "error": "The quantity must be at least 10.",
        "code": "refused",
        "api_error": "Quantity less than minimal 10",
        "fields": {"quantity": ["The quantity must be at least 10."]},
    }
    assert not Order.objects.exists()
    response = api("post", "orders/", {"link": LINK})
    assert response.status_code == 400
    assert response.json()["fields"] == {"service": ["This field is required."]}


def test_it_hides_other_users_orders(
    api: Any, client: Client, service: Service, other_key: str
) -> None:
    theirs = client.post(
        "/api/v1/orders/",
        {"service": service.pk, "link": LINK, "quantity": 100},
        content_type="application/json",
        HTTP_X_API_KEY=other_key,
    ).json()["id"]
    for method, path in (
        ("get", f"orders/{theirs}/"),
        ("post", f"orders/{theirs}/refill/"),
        ("post", f"orders/{theirs}/cancel/"),
    ):
        response = api(method, path)
        assert response.status_code in (400, 404)
        assert response.json()["error"] in ("Not found.", "This order does not exist.")
    assert api("get", "orders/").json()["count"] == 0


def test_it_cancels_and_refills(api: Any, service: Service, customer: User) -> None:
    queued = api("post", "orders/", {"service": service.pk, "link": LINK, "quantity": 100})
    response = api("post", f"orders/{queued.json()['id']}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == "Canceled"
    done = api("post", "orders/", {"service": service.pk, "link": LINK + "2", "quantity": 100})
    Order.objects.filter(pk=done.json()["id"]).update(
        status=Order.Status.COMPLETED, upstream_order_id="u1", finished_at=timezone.now()
    )
    response = api("post", f"orders/{done.json()['id']}/refill/")
    refill = Refill.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": refill.pk,
        "order": done.json()["id"],
        "status": "Pending",
        "created_at": refill.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": refill.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert api("get", "refills/").json()["count"] == 1
    assert api("get", f"refills/{refill.pk}/").json()["status"] == "Pending"
    again = api("post", f"orders/{done.json()['id']}/refill/")
    assert again.status_code == 400
    assert again.json()["api_error"] == "Refill is not available for this order"
    cannot = api("post", f"orders/{done.json()['id']}/cancel/")
    assert cannot.json()["api_error"] == "Order can't be canceled"


def test_it_answers_balance_and_transactions(api: Any, customer: User) -> None:
    assert api("get", "balance/").json() == {"balance": "100.00", "currency": "USD"}
    entry = LedgerEntry.objects.get(user=customer)
    assert api("get", "transactions/", {"kind": "deposit"}).json()["results"] == [
        {
            "id": entry.pk,
            "kind": "deposit",
            "amount": "100.00",
            "balance_after": "100.00",
            "order": None,
            "reason": "",
            "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert api("get", "transactions/", {"kind": "refund"}).json()["count"] == 0


def test_it_replays_an_order_with_the_same_idempotency_key(
    api: Any, service: Service, customer: User
) -> None:
    body = {"service": service.pk, "link": LINK, "quantity": 100}
    first = api("post", "orders/", body, **{"Idempotency-Key": "k-1"})
    again = api("post", "orders/", body, **{"Idempotency-Key": "k-1"})
    assert first.json() == again.json()
    assert Order.objects.count() == 1
    other = api("post", "orders/", {**body, "quantity": 200}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 400
    assert other.json()["api_error"] == "Incorrect request"


@pytest.mark.django_db(transaction=True)
def test_it_places_one_order_for_20_concurrent_requests_with_one_key(
    requires_postgres: None, service: Service, key: str, customer: User
) -> None:
    body = {"service": service.pk, "link": LINK, "quantity": 100}
    barrier = threading.Barrier(20)
    results: list[tuple[int, int]] = []

    def send() -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/api/v1/orders/",
                body,
                content_type="application/json",
                HTTP_X_API_KEY=key,
                HTTP_IDEMPOTENCY_KEY="same-key",
            )
            results.append((response.status_code, response.json().get("id", response.json())))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    order = Order.objects.get()
    assert results == [(201, order.pk)] * 20
    assert LedgerEntry.objects.filter(user=customer, kind="order_charge").count() == 1
    customer.refresh_from_db()
    assert customer.balance == Decimal("99.87")
