"""Support tickets: a customer's question and the conversation with staff about it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Ticket(models.Model):
    """One customer request. Its status says whose turn it is; closed tickets are final."""

    class Category(models.TextChoices):
        ORDER_REFILL = "order_refill", _("Order: refill")
        ORDER_CANCEL = "order_cancel", _("Order: cancel")
        ORDER_SPEED_UP = "order_speed_up", _("Order: speed up")
        ORDER_OTHER = "order_other", _("Order: other")
        PAYMENT = "payment", _("Payment")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        WAITING_STAFF = "waiting_staff", _("Waiting for support")
        WAITING_CUSTOMER = "waiting_customer", _("Answered")
        CLOSED = "closed", _("Closed")

    ORDER_CATEGORIES = (
        Category.ORDER_REFILL,
        Category.ORDER_CANCEL,
        Category.ORDER_SPEED_UP,
        Category.ORDER_OTHER,
    )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    category = models.CharField(_("about"), max_length=24, choices=Category.choices)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=Status.choices,
        default=Status.WAITING_STAFF,
        db_index=True,
    )
    orders = models.ManyToManyField(
        "orders.Order", blank=True, related_name="tickets", verbose_name=_("orders")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        limit_choices_to={"is_staff": True},
        verbose_name=_("assigned to"),
    )
    # Unread tracking: a side has unread messages when the other side wrote after it last read.
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_staff_message_at = models.DateTimeField(null=True, blank=True)
    customer_read_at = models.DateTimeField(null=True, blank=True)
    staff_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [models.Index(fields=["user", "-updated_at"], name="ticket_user_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_order_ticket(self) -> bool:
        return self.category in self.ORDER_CATEGORIES

    @property
    def unread_by_customer(self) -> bool:
        return self.last_staff_message_at is not None and (
            self.customer_read_at is None or self.customer_read_at < self.last_staff_message_at
        )

    @property
    def unread_by_staff(self) -> bool:
        return self.last_customer_message_at is not None and (
            self.staff_read_at is None or self.staff_read_at < self.last_customer_message_at
        )


class TicketMessage(models.Model):
    """One message of a ticket's conversation; never edited."""

    class Event(models.TextChoices):
        # Written by a staff action rather than typed; rendered translated, for the order.
        NONE = "", _("Message")
        REFILL_REQUESTED = "refill_requested", _("Refill requested")
        CANCEL_REQUESTED = "cancel_requested", _("Cancel requested")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Why a column and not author.is_staff: a staff member may also be a customer, and staff
    # status can change later; what counts is the side the message was written from.
    from_staff = models.BooleanField(default=False)
    body = models.TextField(max_length=5000, blank=True)
    event = models.CharField(max_length=24, choices=Event.choices, blank=True, default="")
    event_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")

    def __str__(self) -> str:
        return f"Message {self.pk} on ticket {self.ticket_id}"
