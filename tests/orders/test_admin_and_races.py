import threading
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import reverse

from accounts.models import LedgerEntry
from orders.errors import PlacementError
from orders.models import Order
from orders.services import order_forward, order_place
from panel.smmapi.protocol import Error
from tests.conftest import fund
from tests.factories import UserFactory
from tests.orders.test_subscriptions_review import review  # noqa: F401 - fixture


def test_it_lists_and_filters_orders_in_the_admin(admin_client, customer, services):
    order_place(
        user=customer,
        service_id=services["default"].pk,
        fields={"link": "https://x.com/a", "quantity": "100"},
        source="web",
    )
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"status": "queued"})
    assert response.status_code == 200
    assert True
    assert response.context["cl"].result_count == 1
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": "customer@"})
    assert response.context["cl"].result_count == 1


def test_it_attaches_an_upstream_id_from_the_admin(admin_client, review, sim):  # noqa: F811
    url = reverse("admin:orders_order_attach_upstream", args=[review.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"upstream_order_id": str(sim.state.orders()[0].id)})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "sent"


def test_it_cancels_and_refunds_from_the_admin(admin_client, review, customer):  # noqa: F811
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [review.pk]},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.refunded) == ("canceled", Decimal("1.50000"))
    entries = LogEntry.objects.filter(object_id=str(review.pk), content_type__model="order")
    assert [(e.user.email, e.change_message) for e in entries] == [
        ("admin@example.com", "Canceled and refunded.")
    ]


def test_it_shows_reconciliations(admin_client, provider):
    response = admin_client.get(reverse("admin:orders_providerreconciliation_changelist"))
    assert response.status_code == 200


def place_at_once(user, service, links: list[str]) -> list[str]:
    """One order per link, all released at once from their own threads: "ok" or the error."""
    results: list[str] = []
    barrier = threading.Barrier(len(links))

    def place(link: str) -> None:
        try:
            barrier.wait()
            order_place(
                user=user,
                service_id=service.pk,
                fields={"link": link, "quantity": "100"},
                source="api_v2",
            )
            results.append("ok")
        except PlacementError as exc:
            results.append(exc.api_error)
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_it_never_overspends_with_concurrent_placements(requires_postgres, services, sim):
    user = UserFactory()
    fund(user, "1.00")  # each order costs 0.15: six fit
    results = place_at_once(user, services["default"], [f"https://x.com/{i}" for i in range(50)])
    user.refresh_from_db()
    assert results.count("ok") == 6
    assert results.count("Not enough funds on balance") == 44
    assert user.balance == Decimal("0.10000")
    assert Order.objects.count() == 6
    assert LedgerEntry.objects.filter(kind="order_charge").count() == 6


@pytest.mark.django_db(transaction=True)
def test_it_places_one_of_concurrent_orders_for_one_link(requires_postgres, services, sim):
    user = UserFactory()
    fund(user, "10.00")
    results = place_at_once(user, services["default"], ["https://x.com/same"] * 20)
    user.refresh_from_db()
    assert results.count("ok") == 1
    assert results.count(Error.ACTIVE_ORDER) == 19
    assert user.balance == Decimal("9.85000")
    assert Order.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="order_charge").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_charges_once_for_concurrent_requests_with_one_idempotency_key(
    requires_postgres, services, sim
):
    user = UserFactory()
    fund(user, "10.00")
    ids: list[int] = []
    barrier = threading.Barrier(10)

    def place() -> None:
        try:
            barrier.wait()
            order = order_place(
                user=user,
                service_id=services["default"].pk,
                fields={"link": "https://x.com/k", "quantity": "100"},
                source="api_v2",
                idempotency_key="same",
            )
            ids.append(order.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=place) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 10
    assert len(set(ids)) == 1
    assert LedgerEntry.objects.filter(kind="order_charge").count() == 1
    assert order_forward(order_id=ids[0]) == "sent"
