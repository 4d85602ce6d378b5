"""The audit trail of staff resolutions: the console's audit log plus Django's admin log
(each object's "History" page)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model

from accounts.models import User
from console.models import AuditEntry
from console.services.audit import audit_record


def audit_log(
    *,
    staff: User,
    obj: Model,
    message: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Record what a staff member did to ``obj``; call it in the transaction of the change."""
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[obj], action_flag=CHANGE, change_message=message
    )
    audit_record(
        staff=staff,
        obj=obj,
        action=AuditEntry.Action.REVIEW,
        message=message,
        before=before,
        after=after,
    )
