"""Writes of the console: audit entries, notifications, the rollup rebuild, bulk markup."""

from console.services.audit import audit_record
from console.services.notify import notification_deliver, notifications_deliver_pending, notify
from console.services.rollup import rollup_rebuild

__all__ = [
    "audit_record",
    "notification_deliver",
    "notifications_deliver_pending",
    "notify",
    "rollup_rebuild",
]
