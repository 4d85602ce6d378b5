"""The audit log: one row per staff action on money, prices, providers or reviews.

Why our own table and not django-auditlog / django-simple-history: those record model saves
through signals, and the writes that matter here are conditional UPDATEs, bulk updates and
ledger inserts made by services, which never call ``save()``. A service knows what it
changed and why; it records that here, in the transaction of the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from accounts.models import User
from console.models import AuditEntry


def _plain(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """JSON-safe values: money and dates as their exact strings, never floats."""
    out: dict[str, Any] = {}
    for key, value in (values or {}).items():
        plain = value is None or isinstance(value, bool | int | str)
        out[key] = value if plain else str(value)
    return out


def audit_record(
    *,
    staff: User,
    obj: Model,
    action: str,
    message: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Record that ``staff`` did ``message`` to ``obj``; call it in the change's transaction.

    Only the fields that differ are kept from ``before``/``after``.
    """
    old, new = _plain(before), _plain(after)
    changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    return AuditEntry.objects.create(
        staff=staff,
        staff_email=staff.email,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        message=message,
        before={key: old.get(key) for key in sorted(changed) if key in old},
        after={key: new.get(key) for key in sorted(changed) if key in new},
    )
