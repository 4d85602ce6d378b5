"""Email notifications about ticket activity, throttled per ticket and side."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from support.models import Ticket

logger = logging.getLogger(__name__)


def _staff_recipients(ticket: Ticket) -> list[str]:
    if ticket.assigned_to is not None and ticket.assigned_to.email:
        return [ticket.assigned_to.email]
    return list(settings.SUPPORT_NOTIFY_EMAILS)


def ticket_notify(*, ticket_id: int, to_staff: bool) -> bool:
    """Mail one side that the ticket has news. Returns True when a mail was sent.

    Throttled: at most one mail per ticket and side every SUPPORT_NOTIFY_INTERVAL_SECONDS,
    so a burst of replies is one mail (the reader sees the whole conversation on the page).
    """
    ticket = Ticket.objects.select_related("user", "assigned_to").filter(pk=ticket_id).first()
    if ticket is None:
        return False
    recipients = _staff_recipients(ticket) if to_staff else [ticket.user.email]
    if not recipients:
        return False
    side = "staff" if to_staff else "customer"
    # add() is atomic: of two workers notifying at once, one wins the window.
    if not cache.add(
        f"support-notify:{ticket.pk}:{side}", 1, timeout=settings.SUPPORT_NOTIFY_INTERVAL_SECONDS
    ):
        return False
    root = settings.PANEL_BASE_URL.rstrip("/")
    if to_staff:
        url = root + reverse("admin:support_ticket_change", args=[ticket.pk])
        language = settings.LANGUAGE_CODE
    else:
        url = root + reverse("support:ticket_detail", args=[ticket.pk])
        language = ticket.user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = gettext("[%(panel)s] Ticket #%(id)s: %(subject)s") % {
            "panel": settings.PANEL_NAME,
            "id": ticket.pk,
            "subject": ticket.subject,
        }
        if to_staff:
            body = gettext("The customer %(email)s wrote in ticket #%(id)s.") % {
                "email": ticket.user.email,
                "id": ticket.pk,
            }
        else:
            body = gettext("Support answered your ticket #%(id)s.") % {"id": ticket.pk}
        body += "\n\n" + gettext("Open the ticket: %(url)s") % {"url": url}
    send_mail(subject, body, None, recipients, fail_silently=True)
    return True
