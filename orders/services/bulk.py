"""One-statement bulk updates for the status sync.

Why not ``QuerySet.bulk_update``: it builds a CASE WHEN expression per row and field, which
costs ~20 ms of Python per 100 rows × 13 columns; ``UPDATE … FROM (VALUES …)`` costs ~1 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def bulk_set(objs: Sequence[models.Model], field_names: Sequence[str]) -> None:
    """Write ``field_names`` of every object (matched by primary key) in one statement."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, field_names)
        return
    meta = model._meta
    fields = [meta.pk, *(meta.get_field(name) for name in field_names)]
    columns = [field.column for field in fields]
    casts = [field.db_type(connection) for field in fields]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    params: list[object] = []
    for obj in objs:
        for field in fields:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([row] * len(objs))}) "
        f"AS v({', '.join(quote(c) for c in columns)}) "
        f"WHERE t.{quote(columns[0])} = v.{quote(columns[0])}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
