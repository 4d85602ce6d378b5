"""Customer support pages: the ticket list, opening a ticket, a ticket's conversation.

Thin adapters over support.services; another customer's ticket is a 404, never a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.models import User
from panel.throttle import rate_limited
from support.forms import TicketOpenForm, TicketReplyForm
from support.models import Ticket
from support.selectors import ticket_get, tickets_for
from support.services import TicketError, ticket_close, ticket_mark_read, ticket_open, ticket_reply

PAGE_SIZE = 20


def _own_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    user: User = request.user  # type: ignore[assignment]
    ticket = ticket_get(user=user, ticket_id=ticket_id)
    if ticket is None:
        raise Http404
    return ticket


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(tickets_for(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "support/ticket_list.html", {"page": page})


@login_required
@rate_limited("ticket")
def ticket_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    initial: dict[str, str] = {}
    if request.method == "GET":
        # Links from other pages preselect what the ticket is about (?category=, ?order=).
        category = request.GET.get("category", "")
        if category in Ticket.Category.values:
            initial["category"] = category
        order = request.GET.get("order", "")
        if order.isascii() and order.isdigit():
            initial = {"order_ids": order, "category": Ticket.Category.ORDER_OTHER}
    form = TicketOpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_open(
                user=user,
                subject=form.cleaned_data["subject"],
                category=form.cleaned_data["category"],
                order_ids=form.cleaned_data["order_ids"],
                body=form.cleaned_data["body"],
            )
        except TicketError as exc:
            form.add_error(exc.field, exc.text())
        else:
            messages.success(request, gettext("Your ticket was sent. We will answer soon."))
            return redirect("support:ticket_detail", ticket_id=ticket.pk)
    return render(request, "support/ticket_new.html", {"form": form})


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ticket = _own_ticket(request, ticket_id)
    form = TicketReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket_reply(
                ticket=ticket, author=user, body=form.cleaned_data["body"], from_staff=False
            )
        except TicketError as exc:
            form.add_error("body", exc.text())
        else:
            return redirect("support:ticket_detail", ticket_id=ticket.pk)
    if request.method == "GET" and ticket.unread_by_customer:
        ticket_mark_read(ticket=ticket, by_staff=False)
    return render(
        request,
        "support/ticket_detail.html",
        {
            "ticket": ticket,
            "ticket_messages": ticket.messages.select_related("event_order"),
            "orders": ticket.orders.select_related("service").order_by("pk"),
            "form": form,
        },
    )


@login_required
@require_POST
def ticket_close_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _own_ticket(request, ticket_id)
    if ticket_close(ticket=ticket):
        messages.success(request, gettext("The ticket was closed."))
    return redirect("support:ticket_detail", ticket_id=ticket.pk)
