"""Reads of tickets for customers and staff."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from accounts.models import User
from support.models import Ticket

# A side has unread messages when the other side wrote after it last read (or it never read).
UNREAD_BY_CUSTOMER = Q(last_staff_message_at__isnull=False) & (
    Q(customer_read_at__isnull=True) | Q(customer_read_at__lt=F("last_staff_message_at"))
)
UNREAD_BY_STAFF = Q(last_customer_message_at__isnull=False) & (
    Q(staff_read_at__isnull=True) | Q(staff_read_at__lt=F("last_customer_message_at"))
)


def tickets_for(*, user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(user=user).order_by("-updated_at", "-id")


def ticket_get(*, user: User, ticket_id: int) -> Ticket | None:
    """The user's own ticket, or None: another customer's ticket does not exist for them."""
    return Ticket.objects.filter(pk=ticket_id, user=user).first()


def customer_unread_count(*, user: User) -> int:
    return Ticket.objects.filter(UNREAD_BY_CUSTOMER, user=user).count()


def staff_unread_count() -> int:
    return Ticket.objects.filter(UNREAD_BY_STAFF).exclude(status=Ticket.Status.CLOSED).count()
