"""Staff side of support tickets, in the admin: a filtered list and one page per ticket with
the conversation, the reply box, close / assign, and the ticket's orders with one-click refill
and cancel forwarded through the order services. Every write calls support.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from accounts.models import User
from support.forms import TicketReplyForm
from support.models import Ticket
from support.selectors import UNREAD_BY_STAFF, staff_unread_count
from support.services import (
    TicketError,
    ticket_assign,
    ticket_close,
    ticket_forward_cancel,
    ticket_forward_refill,
    ticket_mark_read,
    ticket_reply,
)


class OpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("open", _("Open")),
            ("waiting_staff", _("Waiting for staff")),
            ("unread", _("Unread by staff")),
            ("closed", _("Closed")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        if value == "open":
            return queryset.exclude(status=Ticket.Status.CLOSED)
        if value == "waiting_staff":
            return queryset.filter(status=Ticket.Status.WAITING_STAFF)
        if value == "unread":
            return queryset.filter(UNREAD_BY_STAFF)
        if value == "closed":
            return queryset.filter(status=Ticket.Status.CLOSED)
        return queryset


def unread_badge(request: HttpRequest) -> str:
    """Sidebar badge: open tickets with customer messages no staff member has read."""
    count = staff_unread_count()
    return str(count) if count else ""


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    list_display = (
        "__str__",
        "user",
        "category",
        "status",
        "assigned_to",
        "unread",
        "updated_at",
    )
    list_filter = (OpenFilter, "status", "category", "assigned_to")
    list_select_related = ("user", "assigned_to")
    search_fields = ("=id", "subject", "user__email")
    ordering = ("-updated_at",)

    @admin.display(boolean=True, description=_("unread"))
    def unread(self, ticket: Ticket) -> bool:
        return ticket.unread_by_staff

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers open tickets; staff answer them

    def has_delete_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False  # the conversation is a record; close instead

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        count = staff_unread_count()
        title = gettext("Tickets")
        if count:
            title = gettext("Tickets (%(count)s unread)") % {"count": count}
        return super().changelist_view(request, {**(extra_context or {}), "title": title})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The ticket page. POST carries one `action`: reply, close, assign, refill, cancel."""
        ticket = (
            Ticket.objects.select_related("user", "assigned_to").filter(pk=object_id).first()
            if object_id.isdigit()
            else None
        )
        if ticket is None:
            raise Http404
        if not self.has_view_or_change_permission(request, ticket):
            raise PermissionDenied
        staff: User = request.user  # type: ignore[assignment]
        form = TicketReplyForm()
        if request.method == "POST":
            if not self.has_change_permission(request, ticket):
                raise PermissionDenied
            form, done = self._handle_post(request, ticket, staff)
            if done:
                return HttpResponseRedirect(request.path)
        elif ticket.unread_by_staff:
            ticket_mark_read(ticket=ticket, by_staff=True)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(ticket),
            "ticket": ticket,
            "ticket_messages": ticket.messages.select_related("author", "event_order"),
            "orders": ticket.orders.select_related("service", "provider").order_by("pk"),
            "form": form,
            "staff_users": User.objects.filter(is_staff=True, is_active=True).order_by("email"),
            "can_change": self.has_change_permission(request, ticket),
            "changelist_url": reverse("admin:support_ticket_changelist"),
            **(extra_context or {}),
        }
        return render(request, "admin/support/ticket/conversation.html", context)

    def _handle_post(
        self, request: HttpRequest, ticket: Ticket, staff: User
    ) -> tuple[TicketReplyForm, bool]:
        action = request.POST.get("action", "")
        form = TicketReplyForm()
        try:
            if action == "reply":
                form = TicketReplyForm(request.POST)
                if not form.is_valid():
                    return form, False
                ticket_reply(
                    ticket=ticket, author=staff, body=form.cleaned_data["body"], from_staff=True
                )
                messages.success(request, gettext("Reply sent."))
            elif action == "close":
                ticket_close(ticket=ticket)
                messages.success(request, gettext("The ticket was closed."))
            elif action == "assign":
                assignee_id = request.POST.get("assigned_to", "")
                assignee = (
                    User.objects.filter(pk=int(assignee_id), is_staff=True).first()
                    if assignee_id.isdigit()
                    else None
                )
                if assignee_id and assignee is None:
                    raise TicketError(gettext_noop("Tickets can only be assigned to staff."))
                ticket_assign(ticket=ticket, staff=assignee)
                messages.success(request, gettext("Assignment saved."))
            elif action in ("refill", "cancel"):
                order_id = request.POST.get("order_id", "")
                if not order_id.isdigit():
                    raise TicketError(gettext_noop("This order is not part of the ticket."))
                forward = ticket_forward_refill if action == "refill" else ticket_forward_cancel
                forward(ticket=ticket, order_id=int(order_id), staff=staff)
                if action == "refill":
                    text = gettext("A refill of order #%(id)s was requested.")
                else:
                    text = gettext("A cancel of order #%(id)s was requested.")
                messages.success(request, text % {"id": order_id})
            else:
                raise TicketError(gettext_noop("Unknown action."))
        except TicketError as exc:
            messages.error(request, exc.text())
        return form, True
