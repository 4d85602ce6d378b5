"""Alerts for the admin: a row they can see in the admin, and an operator notification."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.urls import reverse

from catalog.models import CatalogAlert
from console.services.notify import Kind, notify

logger = logging.getLogger("catalog.alerts")

# A sync can flag thousands of services at once; the message lists the first ones only.
MAIL_MAX_LINES = 50
NOTIFY_KINDS: dict[str, str] = {
    CatalogAlert.Kind.BELOW_COST: Kind.SERVICE_DISABLED,
    CatalogAlert.Kind.LOW_BALANCE: Kind.BALANCE_LOW,
}


def alerts_raise(*, alerts: Sequence[CatalogAlert], subject: str) -> None:
    """Store ``alerts`` and notify the operators (sent after commit: a rolled-back alert never
    leaves the panel)."""
    if not alerts:
        return
    CatalogAlert.objects.bulk_create(alerts)
    for alert in alerts:
        logger.warning("%s: %s", alert.kind, alert.message)
    lines = [alert.message for alert in alerts[:MAIL_MAX_LINES]]
    if len(alerts) > MAIL_MAX_LINES:
        lines.append(
            f"... and {len(alerts) - MAIL_MAX_LINES} more (see Catalog alerts in the admin)."
        )
    body = "\n".join(lines)
    # One operator notification per batch (stored now, sent after commit by the console; a
    # broken mail server or Telegram never undoes the catalogue work).
    first = alerts[0]
    kind = NOTIFY_KINDS.get(str(first.kind), Kind.SERVICE_DISABLED)
    subject_key = f"provider:{first.provider_id}" if first.provider_id else f"catalog:{first.kind}"
    link = reverse("admin:catalog_catalogalert_changelist") + "?resolved_at__isnull=True"
    notify(kind=kind, subject_key=subject_key, title=subject, body=body, link=link)
