"""Another customer's order, refill, payment or ledger entry: a 404 (or the answer an unknown id
gets, on the APIs), never a 403 that leaks existence, never their data, nothing changed."""

from __future__ import annotations

import json

from django.test import Client

from accounts.models import LedgerEntry, Payment, User
from accounts.services import api_key_rotate
from orders.models import Order, Refill

UNKNOWN = 987654321


def test_it_answers_404_for_another_users_objects_on_pages(
    signed_in: Client, theirs: dict[str, object]
) -> None:
    order: Order = theirs["order"]  # type: ignore[assignment]
    payment: Payment = theirs["payment"]  # type: ignore[assignment]
    for path in (
        f"/orders/{order.pk}/",
        f"/payments/{payment.pk}/return/success/",
        f"/payments/{payment.pk}/return/cancel/",
    ):
        response = signed_in.get(path)
        assert response.status_code == 404, path
        assert "secret" not in response.content.decode()
    for path in (f"/orders/{order.pk}/refill/", f"/orders/{order.pk}/cancel/"):
        assert signed_in.post(path).status_code == 404, path
    assert Refill.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert (order.status, order.cancel_status) == (
        Order.Status.COMPLETED,
        Order.CancelStatus.NONE,
    )


def test_it_never_lists_another_users_rows(
    signed_in: Client, theirs: dict[str, object], other_user: User
) -> None:
    entry: LedgerEntry = theirs["entry"]  # type: ignore[assignment]
    for path in ("/", "/orders/", "/transactions/", "/funds/", "/orders/?q=secret"):
        body = signed_in.get(path).content.decode()
        assert "instagram.com/secret" not in body, path
        assert "25.00" not in body, path  # their pending payment
        assert f"#{theirs['order'].pk}<" not in body, path  # type: ignore[attr-defined]
    transactions = signed_in.get("/transactions/")
    assert entry.pk not in [row.pk for row in transactions.context["page"].object_list]


def test_it_answers_another_users_ids_like_unknown_ones_on_the_rest_api(
    client: Client, customer: User, theirs: dict[str, object]
) -> None:
    key = api_key_rotate(user=customer)
    order: Order = theirs["order"]  # type: ignore[assignment]
    refill: Refill = theirs["refill"]  # type: ignore[assignment]
    for method, template in (
        ("get", "/api/v1/orders/{}/"),
        ("post", "/api/v1/orders/{}/refill/"),
        ("post", "/api/v1/orders/{}/cancel/"),
    ):
        theirs_answer = getattr(client, method)(template.format(order.pk), HTTP_X_API_KEY=key)
        unknown_answer = getattr(client, method)(template.format(UNKNOWN), HTTP_X_API_KEY=key)
        assert theirs_answer.status_code == unknown_answer.status_code, template
        assert theirs_answer.status_code in (400, 404), template
        assert theirs_answer.json() == unknown_answer.json(), template
    response = client.get(f"/api/v1/refills/{refill.pk}/", HTTP_X_API_KEY=key)
    assert (response.status_code, response.json()) == (
        404,
        client.get(f"/api/v1/refills/{UNKNOWN}/", HTTP_X_API_KEY=key).json(),
    )
    listing = client.get("/api/v1/transactions/", HTTP_X_API_KEY=key).json()
    assert all(row.get("id") != theirs["entry"].pk for row in listing["results"])  # type: ignore[attr-defined]
    assert client.get("/api/v1/orders/", HTTP_X_API_KEY=key).json()["count"] == 0
    assert Refill.objects.filter(order=order).count() == 1


def test_it_answers_another_users_ids_like_unknown_ones_on_api_v2(
    client: Client, customer: User, theirs: dict[str, object]
) -> None:
    key = api_key_rotate(user=customer)
    order: Order = theirs["order"]  # type: ignore[assignment]
    refill: Refill = theirs["refill"]  # type: ignore[assignment]

    def call(**fields: object) -> object:
        response = client.post("/api/v2", {"key": key, **fields})
        return response.status_code, json.loads(response.content)

    for action, name, theirs_id in (
        ("status", "order", order.pk),
        ("refill", "order", order.pk),
        ("cancel", "orders", order.pk),
        ("refill_status", "refill", refill.pk),
    ):
        theirs_answer = call(action=action, **{name: theirs_id})
        unknown_answer = call(action=action, **{name: UNKNOWN})
        assert json.dumps(theirs_answer).replace(str(theirs_id), "N") == json.dumps(
            unknown_answer
        ).replace(str(UNKNOWN), "N"), action
    assert Refill.objects.filter(order=order).count() == 1
