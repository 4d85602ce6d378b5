"""Alerts for the admin: a row they can see in the admin, and a mail once the data is committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail import mail_admins
from django.db import transaction

from catalog.models import CatalogAlert

logger = logging.getLogger("catalog.alerts")

# A sync can flag thousands of services at once; the mail lists the first ones only.
MAIL_MAX_LINES = 50


def alerts_raise(*, alerts: Sequence[CatalogAlert], subject: str) -> None:
    """Store ``alerts`` and mail the admins after commit (a rolled-back alert is never mailed)."""
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
    # fail_silently: a broken mail server must not undo the catalogue work; the rows remain.
    transaction.on_commit(lambda: mail_admins(subject, body, fail_silently=True))
