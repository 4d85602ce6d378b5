"""Ticket writes: opening with orders validated as the customer's, replies, close, assign,
forwarding a refill or cancel through the order services, unread counts, notifications."""

from unittest import mock

import pytest
from django.core import mail

from accounts.models import User
from orders.models import Order, Refill
from support.models import Ticket, TicketMessage
from support.notifications import ticket_notify
from support.selectors import customer_unread_count, staff_unread_count
from support.services import (
    TicketError,
    ticket_assign,
    ticket_close,
    ticket_forward_cancel,
    ticket_forward_refill,
    ticket_mark_read,
    ticket_open,
    ticket_reply,
)
from tests.support.conftest import make_order

pytestmark = pytest.mark.django_db


def open_ticket(user: User, **overrides: object) -> Ticket:
    fields: dict[str, object] = {
        "subject": "Followers dropped",
        "category": Ticket.Category.ORDER_REFILL,
        "order_ids": [],
        "body": "Please refill.",
        **overrides,
    }
    return ticket_open(user=user, **fields)  # type: ignore[arg-type]


def test_it_opens_a_ticket_with_the_customers_orders(customer, completed_order):
    ticket = open_ticket(customer, order_ids=[completed_order.pk, completed_order.pk])
    assert (ticket.status, ticket.category, ticket.subject) == (
        "waiting_staff",
        "order_refill",
        "Followers dropped",
    )
    assert list(ticket.orders.values_list("pk", flat=True)) == [completed_order.pk]
    assert list(ticket.messages.values_list("body", "from_staff")) == [("Please refill.", False)]


def test_it_refuses_another_customers_order_like_a_missing_one(customer, other_user):
    theirs = make_order(other_user)
    with pytest.raises(TicketError) as error:
        open_ticket(customer, order_ids=[theirs.pk, 999999])
    assert error.value.field == "order_ids"
    assert error.value.message == (
        f"These orders are not yours or do not exist: {theirs.pk}, 999999."
    )
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"category": "nonsense"}, "category"),
        ({"category": Ticket.Category.PAYMENT, "order_ids": [1]}, "order_ids"),
    ],
)
def test_it_refuses_bad_input_with_the_field(customer, overrides, field):
    with pytest.raises(TicketError) as error:
        open_ticket(customer, **overrides)
    assert error.value.field == field
    assert Ticket.objects.count() == 0


def test_it_limits_open_tickets_per_customer(customer, settings):
    settings.SUPPORT_MAX_OPEN_TICKETS = 2
    first = open_ticket(customer)
    open_ticket(customer)
    with pytest.raises(TicketError, match="too many open tickets"):
        open_ticket(customer)
    ticket_close(ticket=first)
    open_ticket(customer)
    assert Ticket.objects.filter(user=customer).count() == 3


def test_replies_move_the_turn_and_unread_counts(customer, staff):
    ticket = open_ticket(customer)
    assert (customer_unread_count(user=customer), staff_unread_count()) == (0, 1)

    ticket_reply(ticket=ticket, author=staff, body="Done, refilled.", from_staff=True)
    assert ticket.status == "waiting_customer"
    assert (customer_unread_count(user=customer), staff_unread_count()) == (1, 0)

    ticket_mark_read(ticket=ticket, by_staff=False)
    assert customer_unread_count(user=customer) == 0

    ticket_reply(ticket=ticket, author=customer, body="Thanks!", from_staff=False)
    ticket.refresh_from_db()
    assert ticket.status == "waiting_staff"
    assert staff_unread_count() == 1
    ticket_mark_read(ticket=ticket, by_staff=True)
    assert staff_unread_count() == 0


def test_a_closed_ticket_takes_no_replies(customer, staff):
    ticket = open_ticket(customer)
    assert ticket_close(ticket=ticket) is True
    assert ticket_close(ticket=ticket) is False
    with pytest.raises(TicketError, match="closed"):
        ticket_reply(ticket=ticket, author=staff, body="Late", from_staff=True)
    assert ticket.messages.count() == 1
    assert ticket.status == "closed"


def test_it_assigns_only_staff(customer, staff, other_user):
    ticket = open_ticket(customer)
    ticket_assign(ticket=ticket, staff=staff)
    assert ticket.assigned_to == staff
    with pytest.raises(TicketError):
        ticket_assign(ticket=ticket, staff=other_user)
    ticket_assign(ticket=ticket, staff=None)
    assert ticket.assigned_to is None


def test_staff_forward_a_refill_through_the_refill_service(
    customer, staff, completed_order, django_capture_on_commit_callbacks
):
    ticket = open_ticket(customer, order_ids=[completed_order.pk])
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        mock.patch("support.tasks.ticket_notify.delay"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_forward_refill(ticket=ticket, order_id=completed_order.pk, staff=staff)
    refill = Refill.objects.get(order=completed_order)
    delay.assert_called_once_with(refill.pk)
    event = ticket.messages.get(from_staff=True)
    assert (event.event, event.event_order_id) == ("refill_requested", completed_order.pk)
    assert (ticket.status, customer_unread_count(user=customer)) == ("waiting_customer", 1)
    # The service's own rule: one refill in flight per order.
    with pytest.raises(TicketError, match="already in progress"):
        ticket_forward_refill(ticket=ticket, order_id=completed_order.pk, staff=staff)
    assert Refill.objects.filter(order=completed_order).count() == 1


def test_staff_cannot_forward_for_an_order_outside_the_ticket(customer, staff, completed_order):
    ticket = open_ticket(customer)
    with pytest.raises(TicketError, match="not part of the ticket"):
        ticket_forward_refill(ticket=ticket, order_id=completed_order.pk, staff=staff)
    assert Refill.objects.count() == 0


def test_staff_forward_a_cancel_of_a_queued_order_which_refunds_it(customer, staff):
    order = make_order(customer, status=Order.Status.QUEUED)
    ticket = open_ticket(customer, category=Ticket.Category.ORDER_CANCEL, order_ids=[order.pk])
    ticket_forward_cancel(ticket=ticket, order_id=order.pk, staff=staff)
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("canceled", order.charge)
    with pytest.raises(TicketError, match="can't be canceled"):
        ticket_forward_cancel(ticket=ticket, order_id=order.pk, staff=staff)
    assert list(ticket.messages.values_list("event", flat=True)) == ["", "cancel_requested"]


def test_new_messages_enqueue_a_notification_after_commit(
    customer, staff, django_capture_on_commit_callbacks
):
    with (
        mock.patch("support.tasks.ticket_notify.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = open_ticket(customer)
        ticket_reply(ticket=ticket, author=staff, body="Hi", from_staff=True)
    assert delay.call_args_list == [mock.call(ticket.pk, True), mock.call(ticket.pk, False)]


def test_notifications_are_throttled_per_ticket_and_side(customer, settings):
    settings.SUPPORT_NOTIFY_EMAILS = ["support@example.com"]
    ticket = open_ticket(customer)
    assert ticket_notify(ticket_id=ticket.pk, to_staff=True) is True
    assert ticket_notify(ticket_id=ticket.pk, to_staff=True) is False
    assert ticket_notify(ticket_id=ticket.pk, to_staff=False) is True
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["support@example.com"], f"[Upline] Ticket #{ticket.pk}: Followers dropped"),
        (["customer@example.com"], f"[Upline] Ticket #{ticket.pk}: Followers dropped"),
    ]
    assert f"/support/{ticket.pk}/" in mail.outbox[1].body


def test_notifications_go_to_the_assignee_in_the_customers_language(customer, staff):
    customer.language = "ru"
    customer.save()
    ticket = open_ticket(customer)
    ticket_assign(ticket=ticket, staff=staff)
    ticket_notify(ticket_id=ticket.pk, to_staff=True)
    ticket_notify(ticket_id=ticket.pk, to_staff=False)
    assert [m.to for m in mail.outbox] == [["staff@example.com"], ["customer@example.com"]]
    assert "Откройте" in mail.outbox[1].body


def test_messages_are_never_shared_between_tickets(customer, other_user):
    mine = open_ticket(customer, body="mine")
    open_ticket(other_user, body="theirs")
    assert list(TicketMessage.objects.filter(ticket=mine).values_list("body", flat=True)) == [
        "mine"
    ]
