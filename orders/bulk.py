"""One-statement bulk updates for the status sync (here, outside ``orders.services``, so that
``orders.states`` can write through it without importing every service).

Why not ``QuerySet.bulk_update``: it builds a CASE WHEN expression per row and field (~20 ms
of Python per 100 rows × 13 columns). Here each column travels as one array parameter:
``UPDATE … FROM unnest(%s::type[], …)``, a handful of parameters whatever the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, models

if TYPE_CHECKING:
    Column = models.Field[Any, Any]


def bulk_set(
    objs: Sequence[models.Model],
    field_names: Sequence[str],
    *,
    guard: tuple[str, Sequence[Any]] | None = None,
) -> int:
    """Write ``field_names`` of every object (matched by primary key) in one statement.

    Only for plain columns (numbers, text, Decimal, datetimes); values are passed as they are
    on the instances, which psycopg adapts natively. ``guard`` is a column and one value per
    object: a row is written only while that column still holds its value (the state
    machine's conditional write). Returns the number of rows written.
    """
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    if connection.vendor != "postgresql":
        if guard is not None:
            raise NotImplementedError("a guarded bulk_set needs PostgreSQL")
        return model._default_manager.bulk_update(objs, field_names)
    fields: list[Column] = [meta.pk]
    fields += [cast("Column", meta.get_field(name)) for name in field_names]
    quote = connection.ops.quote_name
    columns = [quote(cast(str, field.column)) for field in fields]
    types = [field.db_type(connection) for field in fields]
    params: list[list[Any]] = [[getattr(obj, field.attname) for obj in objs] for field in fields]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    condition = f"t.{columns[0]} = v.{columns[0]}"
    names = list(columns)
    if guard is not None:
        column, values = guard
        guarded = cast("Column", meta.get_field(column))
        types.append(guarded.db_type(connection))
        params.append(list(values))
        names.append("guard")
        condition += f" AND t.{quote(cast(str, guarded.column))} = v.guard"
    arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
    # Identifiers come from the model's meta, never from input; values are parameters.
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS v({', '.join(names)}) "
        f"WHERE {condition}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
