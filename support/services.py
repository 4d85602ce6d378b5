"""Writes to support tickets: open, reply, close, assign, mark read, and forwarding a refill
or cancel of a ticket's order through the order services."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from orders.errors import CancelError, RefillError
from orders.models import Order
from orders.services.cancels import cancel_request
from orders.services.refills import refill_request
from support.models import Ticket, TicketMessage

logger = logging.getLogger(__name__)

MAX_ORDERS_PER_TICKET = 20
MAX_BODY_LENGTH = 5000


class TicketError(Exception):
    """The request was refused; nothing was written.

    `template` is the English sentence (marked for translation where it is raised) and
    `params` fill its placeholders; `text()` is the sentence in the active language and
    `field` the form field it belongs to.
    """

    def __init__(self, template: str, *, field: str | None = None, **params: object) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        self.field = field
        super().__init__(self.message)

    def text(self) -> str:
        translated = gettext(self.template)
        return translated % self.params if self.params else translated


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise TicketError(gettext_noop("Write a message."), field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise TicketError(
            gettext_noop("A message can have at most %(n)s characters."),
            field="body",
            n=MAX_BODY_LENGTH,
        )
    return body


def _notify_after_commit(ticket_id: int, *, to_staff: bool) -> None:
    from support import tasks

    def enqueue() -> None:
        try:
            tasks.ticket_notify.delay(ticket_id, to_staff)
        except Exception:  # a notification must never fail the write it is about
            logger.exception("Could not enqueue the notification for ticket %s", ticket_id)

    transaction.on_commit(enqueue)


def ticket_open(
    *, user: User, subject: str, category: str, order_ids: list[int], body: str
) -> Ticket:
    """Open a ticket with its first message. Raises TicketError with nothing written.

    `order_ids` must all be the customer's own orders (another customer's order is reported
    exactly like a missing one), and only order tickets carry orders.
    """
    subject = (subject or "").strip()
    if not subject:
        raise TicketError(gettext_noop("Enter a subject."), field="subject")
    if len(subject) > 200:
        raise TicketError(
            gettext_noop("The subject can have at most 200 characters."), field="subject"
        )
    if category not in Ticket.Category.values:
        raise TicketError(gettext_noop("Choose what the ticket is about."), field="category")
    body = _clean_body(body)
    ids = sorted(set(order_ids))
    if ids and category not in Ticket.ORDER_CATEGORIES:
        raise TicketError(
            gettext_noop("Only tickets about orders can list orders."), field="order_ids"
        )
    if len(ids) > MAX_ORDERS_PER_TICKET:
        raise TicketError(
            gettext_noop("A ticket can list at most %(n)s orders."),
            field="order_ids",
            n=MAX_ORDERS_PER_TICKET,
        )
    orders = list(Order.objects.filter(user=user, pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {order.pk for order in orders})
    if missing:
        raise TicketError(
            gettext_noop("These orders are not yours or do not exist: %(ids)s."),
            field="order_ids",
            ids=", ".join(str(order_id) for order_id in missing),
        )
    open_count = Ticket.objects.filter(user=user).exclude(status=Ticket.Status.CLOSED).count()
    if open_count >= settings.SUPPORT_MAX_OPEN_TICKETS:
        raise TicketError(
            gettext_noop(
                "You have too many open tickets. Please wait for an answer or close one first."
            )
        )
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            user=user,
            subject=subject,
            category=category,
            last_customer_message_at=now,
            customer_read_at=now,
        )
        ticket.orders.set(orders)
        TicketMessage.objects.create(ticket=ticket, author=user, body=body)
        _notify_after_commit(ticket.pk, to_staff=True)
    return ticket


def ticket_reply(*, ticket: Ticket, author: User, body: str, from_staff: bool) -> TicketMessage:
    """Add a message. The ticket's status moves to the other side's turn; closed stays closed."""
    body = _clean_body(body)
    now = timezone.now()
    with transaction.atomic():
        if from_staff:
            changes = {
                "status": Ticket.Status.WAITING_CUSTOMER,
                "last_staff_message_at": now,
                "staff_read_at": now,
            }
        else:
            changes = {
                "status": Ticket.Status.WAITING_STAFF,
                "last_customer_message_at": now,
                "customer_read_at": now,
            }
        # The condition makes a reply racing a close lose cleanly instead of reopening it.
        updated = (
            Ticket.objects.filter(pk=ticket.pk)
            .exclude(status=Ticket.Status.CLOSED)
            .update(updated_at=now, **changes)
        )
        if updated != 1:
            raise TicketError(
                gettext_noop("This ticket is closed. Please open a new one."), field="body"
            )
        message = TicketMessage.objects.create(
            ticket=ticket, author=author, body=body, from_staff=from_staff
        )
        _notify_after_commit(ticket.pk, to_staff=not from_staff)
    ticket.refresh_from_db()
    return message


def ticket_close(*, ticket: Ticket) -> bool:
    """Close the ticket (either side may). Returns False when it was closed already."""
    now = timezone.now()
    closed = (
        Ticket.objects.filter(pk=ticket.pk)
        .exclude(status=Ticket.Status.CLOSED)
        .update(status=Ticket.Status.CLOSED, closed_at=now, updated_at=now)
    )
    ticket.refresh_from_db()
    return closed == 1


def ticket_assign(*, ticket: Ticket, staff: User | None) -> None:
    """Assign the ticket to a staff member, or unassign it with None."""
    if staff is not None and not staff.is_staff:
        raise TicketError(
            gettext_noop("Tickets can only be assigned to staff."), field="assigned_to"
        )
    Ticket.objects.filter(pk=ticket.pk).update(assigned_to=staff)
    ticket.refresh_from_db()


def ticket_mark_read(*, ticket: Ticket, by_staff: bool) -> None:
    """Record that one side has read the conversation up to now."""
    field = "staff_read_at" if by_staff else "customer_read_at"
    Ticket.objects.filter(pk=ticket.pk).update(**{field: timezone.now()})


def _order_of(ticket: Ticket, order_id: int) -> Order:
    order = ticket.orders.filter(pk=order_id).first()
    if order is None:
        raise TicketError(gettext_noop("This order is not part of the ticket."))
    return order


def _event_record(*, ticket: Ticket, staff: User, event: str, order: Order) -> None:
    now = timezone.now()
    with transaction.atomic():
        TicketMessage.objects.create(
            ticket=ticket, author=staff, from_staff=True, event=event, event_order=order
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            last_staff_message_at=now, staff_read_at=now, updated_at=now
        )
        # Staff acted: the customer's turn, unless the ticket was closed already.
        Ticket.objects.filter(pk=ticket.pk).exclude(status=Ticket.Status.CLOSED).update(
            status=Ticket.Status.WAITING_CUSTOMER
        )
        _notify_after_commit(ticket.pk, to_staff=False)
    ticket.refresh_from_db()


def ticket_forward_refill(*, ticket: Ticket, order_id: int, staff: User) -> None:
    """Staff request a refill of one of the ticket's orders on the customer's behalf.

    Goes through orders.services.refills.refill_request exactly as the customer's own button
    does (same checks, one refill in flight per order); raises TicketError with its sentence.
    """
    order = _order_of(ticket, order_id)
    try:
        refill_request(user=ticket.user, order_id=order.pk)
    except RefillError as exc:
        raise TicketError(exc.message) from exc
    _event_record(
        ticket=ticket, staff=staff, event=TicketMessage.Event.REFILL_REQUESTED, order=order
    )


def ticket_forward_cancel(*, ticket: Ticket, order_id: int, staff: User) -> None:
    """Staff cancel one of the ticket's orders on the customer's behalf, through
    orders.services.cancels.cancel_request; raises TicketError with its sentence."""
    order = _order_of(ticket, order_id)
    try:
        cancel_request(user=ticket.user, order_id=order.pk)
    except CancelError as exc:
        raise TicketError(exc.message) from exc
    _event_record(
        ticket=ticket, staff=staff, event=TicketMessage.Event.CANCEL_REQUESTED, order=order
    )
