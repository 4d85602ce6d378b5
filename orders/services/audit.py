"""The audit trail of staff resolutions: Django's admin log (each object's "History" page)."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model

from accounts.models import User


def audit_log(*, staff: User, obj: Model, message: str) -> None:
    """Record what a staff member did to ``obj``; call it in the transaction of the change."""
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[obj], action_flag=CHANGE, change_message=message
    )
