"""The orders page: filters, search, live refresh, refill and cancel; mass orders."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, User
from catalog.models import Service
from orders.models import Order, Refill
from tests.web.conftest import make_order


@pytest.fixture
def signed_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def test_it_filters_orders_by_status(signed_in: Client, customer: User, service: Service) -> None:
    done = make_order(customer, service, status=Order.Status.COMPLETED)
    make_order(customer, service, status=Order.Status.IN_PROGRESS)
    response = signed_in.get(reverse("order_list"), {"status": "completed"})
    assert [o.pk for o in response.context["rows"]] == [done.pk]


def test_it_searches_orders_by_id_and_link(
    signed_in: Client, customer: User, service: Service
) -> None:
    first = make_order(customer, service, link="https://instagram.com/alpha")
    second = make_order(customer, service, link="https://instagram.com/beta")
    by_link = signed_in.get(reverse("order_list"), {"q": "beta"})
    assert [o.pk for o in by_link.context["rows"]] == [second.pk]
    by_id = signed_in.get(reverse("order_list"), {"q": f"#{first.pk}"})
    assert [o.pk for o in by_id.context["rows"]] == [first.pk]


def test_it_never_lists_another_users_orders(
    signed_in: Client, other_user: User, service: Service
) -> None:
    make_order(other_user, service, link="https://instagram.com/secret")
    response = signed_in.get(reverse("order_list"))
    assert response.context["rows"] == []
    assert "secret" not in response.content.decode()


def test_it_hides_another_users_order(
    signed_in: Client, other_user: User, service: Service
) -> None:
    theirs = make_order(other_user, service)
    assert signed_in.get(reverse("order_detail", args=[theirs.pk])).status_code == 404
    assert signed_in.post(reverse("order_refill", args=[theirs.pk])).status_code == 404
    assert signed_in.post(reverse("order_cancel", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.QUEUED


def test_it_paginates(signed_in: Client, customer: User, service: Service) -> None:
    for _ in range(30):
        make_order(customer, service)
    first = signed_in.get(reverse("order_list"))
    second = signed_in.get(reverse("order_list"), {"page": "2"})
    assert (len(first.context["rows"]), len(second.context["rows"])) == (25, 5)
    assert signed_in.get(reverse("order_list"), {"page": "999"}).status_code == 200


def test_it_polls_while_orders_are_running(
    signed_in: Client, customer: User, service: Service
) -> None:
    order = make_order(customer, service, status=Order.Status.IN_PROGRESS)
    page = signed_in.get(reverse("order_list")).content.decode()
    assert 'hx-trigger="every 5s"' in page
    fragment = signed_in.get(reverse("order_list"), HTTP_HX_REQUEST="true")
    assert next(t.name for t in fragment.templates) == "orders/_orders_table.html"
    Order.objects.filter(pk=order.pk).update(status=Order.Status.COMPLETED, remains=0)
    done = signed_in.get(reverse("order_list"), HTTP_HX_REQUEST="true").content.decode()
    assert "Completed" in done
    assert "every 5s" not in done  # nothing left to watch: polling stops


def test_it_cancels_a_queued_order_and_refunds_it(
    signed_in: Client, customer: User, service: Service
) -> None:
    order = make_order(customer, service, charge=Decimal("0"))
    response = signed_in.post(
        reverse("order_cancel", args=[order.pk]), {"next": reverse("order_list")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("order_list")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELED


def test_it_shows_why_a_cancel_was_refused(
    signed_in: Client, customer: User, service: Service
) -> None:
    order = make_order(customer, service, status=Order.Status.COMPLETED)
    response = signed_in.post(reverse("order_cancel", args=[order.pk]), follow=True)
    assert "This order can&#x27;t be canceled." in response.content.decode()


def test_it_requests_a_refill_of_a_completed_order(
    signed_in: Client, customer: User, service: Service
) -> None:
    order = make_order(
        customer,
        service,
        status=Order.Status.COMPLETED,
        upstream_order_id="77",
        finished_at=timezone.now(),
    )
    listing = signed_in.get(reverse("order_list")).content.decode()
    assert reverse("order_refill", args=[order.pk]) in listing
    response = signed_in.post(reverse("order_refill", args=[order.pk]), follow=True)
    assert Refill.objects.filter(order=order).count() == 1
    assert f"Refill of order #{order.pk} requested." in response.content.decode()
    again = signed_in.get(reverse("order_list")).content.decode()
    assert reverse("order_refill", args=[order.pk]) not in again  # one in flight


def test_it_places_each_valid_mass_line_once(
    signed_in: Client, customer: User, service: Service
) -> None:
    text = "\n".join(
        [
            f"{service.pk} | https://instagram.com/one | 100",
            "nonsense line",
            f"{service.pk} | https://instagram.com/two | 5",
            f"{service.pk} | https://instagram.com/three | 200",
            "999999 | https://instagram.com/four | 100",
        ]
    )
    response = signed_in.post(reverse("order_mass"), {"orders": text, "batch": "b1"})
    assert response.status_code == 200
    results = response.context["results"]
    assert [(r.number, r.order is not None) for r in results] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
        (5, False),
    ]
    assert results[1].error == "Write the line as: service ID | link | quantity."
    assert results[2].error == "The quantity must be at least 10."
    assert results[4].error == "This service does not exist or is not available."
    orders = Order.objects.filter(user=customer).order_by("id")
    assert [(o.link, o.quantity, o.source) for o in orders] == [
        ("https://instagram.com/one", 100, "mass"),
        ("https://instagram.com/three", 200, "mass"),
    ]
    # The failed lines come back in the box, ready to be fixed.
    assert response.context["form"].initial["orders"].count("\n") == 2
    # The same batch sent again (double click) places nothing new.
    signed_in.post(reverse("order_mass"), {"orders": text, "batch": "b1"})
    assert Order.objects.filter(user=customer).count() == 2
    assert LedgerEntry.objects.filter(user=customer, kind="order_charge").count() == 2
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000") - Decimal("0.13000") - Decimal("0.26000")


def test_it_requires_some_mass_order_text(signed_in: Client) -> None:
    response = signed_in.post(reverse("order_mass"), {"orders": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"orders": ["This field is required."]}
