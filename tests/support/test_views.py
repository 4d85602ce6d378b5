"""Customer support pages and the staff ticket page in the admin."""

from unittest import mock

import pytest
from django.test import Client

from accounts.models import User
from orders.models import Refill
from support.models import Ticket
from support.services import ticket_open, ticket_reply
from tests.support.conftest import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def a_ticket(user: User, order_ids: list[int] | None = None) -> Ticket:
    return ticket_open(
        user=user,
        subject="Where is my order?",
        category=Ticket.Category.ORDER_SPEED_UP,
        order_ids=order_ids or [],
        body="It has been a day.",
    )


def test_it_opens_a_ticket_from_the_form(customer_client, customer, completed_order):
    response = customer_client.post(
        "/support/new/",
        {
            "category": "order_refill",
            "subject": "Drop",
            "order_ids": f"#{completed_order.pk}, ",
            "body": "Refill please",
        },
    )
    ticket = Ticket.objects.get(user=customer)
    assert response.status_code == 302
    assert response["Location"] == f"/support/{ticket.pk}/"
    assert list(ticket.orders.all()) == [completed_order]


def test_the_form_shows_a_clear_error_for_someone_elses_order(customer_client, other_user):
    theirs = make_order(other_user)
    response = customer_client.post(
        "/support/new/",
        {"category": "order_refill", "subject": "x", "order_ids": str(theirs.pk), "body": "y"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "order_ids": [f"These orders are not yours or do not exist: {theirs.pk}."]
    }
    assert Ticket.objects.count() == 0


def test_the_form_refuses_words_as_order_numbers(customer_client):
    response = customer_client.post(
        "/support/new/",
        {"category": "order_refill", "subject": "x", "order_ids": "12, abc", "body": "y"},
    )
    assert response.context["form"].errors == {"order_ids": ["“abc” is not an order number."]}


def test_another_customers_ticket_is_not_found(customer_client, other_user):
    theirs = a_ticket(other_user)
    assert customer_client.get(f"/support/{theirs.pk}/").status_code == 404
    assert customer_client.post(f"/support/{theirs.pk}/", {"body": "hi"}).status_code == 404
    assert customer_client.post(f"/support/{theirs.pk}/close/").status_code == 404
    assert theirs.messages.count() == 1
    theirs.refresh_from_db()
    assert theirs.status == "waiting_staff"


def test_the_list_shows_only_own_tickets_with_unread_replies(
    customer_client, customer, other_user, staff
):
    mine = a_ticket(customer)
    a_ticket(other_user)
    ticket_reply(ticket=mine, author=staff, body="Speeding it up.", from_staff=True)
    page = customer_client.get("/support/")
    assert [t.pk for t in page.context["page"]] == [mine.pk]
    assert b'data-testid="support-unread">1<' in page.content
    detail = customer_client.get(f"/support/{mine.pk}/")
    assert b"Speeding it up." in detail.content
    assert b'data-testid="support-unread"' not in customer_client.get("/support/").content


def test_the_customer_replies_and_closes(customer_client, customer):
    ticket = a_ticket(customer)
    customer_client.post(f"/support/{ticket.pk}/", {"body": "Any news?"})
    customer_client.post(f"/support/{ticket.pk}/close/")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert list(ticket.messages.values_list("body", flat=True)) == [
        "It has been a day.",
        "Any news?",
    ]
    response = customer_client.post(f"/support/{ticket.pk}/", {"body": "Again"})
    assert response.context["form"].errors == {
        "body": ["This ticket is closed. Please open a new one."]
    }


def test_opening_tickets_is_rate_limited(customer_client, settings):
    settings.WEB_RATE_LIMITS = {**settings.WEB_RATE_LIMITS, "ticket": 2}
    data = {"category": "other", "subject": "s", "body": "b"}
    codes = [customer_client.post("/support/new/", data).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert Ticket.objects.count() == 2


def test_pages_need_sign_in(client):
    response = client.get("/support/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_see_and_filter_tickets(staff_client, customer, other_user):
    waiting = a_ticket(customer)
    closed = a_ticket(other_user)
    staff_client.post(f"/admin/support/ticket/{closed.pk}/change/", {"action": "close"})
    listing = staff_client.get("/admin/support/ticket/?state=waiting_staff")
    assert [t.pk for t in listing.context["cl"].result_list] == [waiting.pk]
    assert listing.context["title"] == "Tickets (1 unread)"
    by_type = staff_client.get("/admin/support/ticket/?category__exact=payment")
    assert list(by_type.context["cl"].result_list) == []


def test_staff_reply_assign_and_forward_a_refill_from_the_ticket(
    staff_client, staff, customer, completed_order, django_capture_on_commit_callbacks
):
    ticket = a_ticket(customer, [completed_order.pk])
    url = f"/admin/support/ticket/{ticket.pk}/change/"
    page = staff_client.get(url)
    assert b'data-testid="upstream-id">77001<' in page.content
    ticket.refresh_from_db()
    assert not ticket.unread_by_staff

    staff_client.post(url, {"action": "reply", "body": "On it."})
    staff_client.post(url, {"action": "assign", "assigned_to": str(staff.pk)})
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        staff_client.post(url, {"action": "refill", "order_id": str(completed_order.pk)})
    refill = Refill.objects.get(order=completed_order)
    delay.assert_called_once_with(refill.pk)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assigned_to) == ("waiting_customer", staff)
    assert list(ticket.messages.values_list("from_staff", "body", "event")) == [
        (False, "It has been a day.", ""),
        (True, "On it.", ""),
        (True, "", "refill_requested"),
    ]


def test_staff_get_the_services_sentence_when_a_refill_is_refused(
    staff_client, customer, django_capture_on_commit_callbacks
):
    order = make_order(customer)  # completed but never reached a provider: no upstream id
    ticket = a_ticket(customer, [order.pk])
    response = staff_client.post(
        f"/admin/support/ticket/{ticket.pk}/change/",
        {"action": "refill", "order_id": str(order.pk)},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Refill is not available for this order."
    ]
    assert Refill.objects.count() == 0


def test_staff_without_change_permission_cannot_write(customer):
    viewer = User.objects.create_user(email="viewer@example.com", password="pw", is_staff=True)
    client = Client()
    client.force_login(viewer)
    ticket = a_ticket(customer)
    response = client.post(f"/admin/support/ticket/{ticket.pk}/change/", {"action": "close"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "waiting_staff"


def test_links_preselect_what_the_ticket_is_about(customer_client):
    from_funds = customer_client.get("/support/new/?category=payment")
    assert from_funds.context["form"].initial == {"category": "payment"}
    from_order = customer_client.get("/support/new/?order=42")
    assert from_order.context["form"].initial == {"order_ids": "42", "category": "order_other"}
    nonsense = customer_client.get("/support/new/?category=x&order=4%C2%B2")
    assert nonsense.context["form"].initial == {}


def test_absurd_ids_are_not_found_never_a_crash(customer_client, staff_client, customer):
    huge = "9" * 30
    assert customer_client.get(f"/support/{huge}/").status_code == 404
    ticket = a_ticket(customer)
    url = f"/admin/support/ticket/{ticket.pk}/change/"
    for data in ({"action": "refill", "order_id": huge}, {"action": "assign", "assigned_to": huge}):
        response = staff_client.post(url, data, follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert staff_client.get(f"/admin/support/ticket/{huge}/change/").status_code == 404


def test_an_order_page_links_to_a_ticket_about_it(customer_client, completed_order):
    page = customer_client.get(f"/orders/{completed_order.pk}/")
    assert f'href="/support/new/?order={completed_order.pk}"'.encode() in page.content
