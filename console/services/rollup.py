"""The daily rollup (day × provider × service) the dashboard reads.

It is kept up to date by database triggers on the orders table (migrations ``console/0002``
and, on PostgreSQL, ``0003``: once per statement): when an order reaches a final status its
count, charge, cost and refund are added to the row of the day it settled, and later changes
to those amounts (a refund that follows the status, a corrected cost) add their difference.
The trigger runs in the transaction of the change, so a settlement is counted exactly once
whichever code path made it, and the dashboard never scans the orders table.

``rollup_rebuild`` recomputes days from the orders themselves: for data that predates the
trigger, and to check the trigger (``manage.py console_rollup [--since YYYY-MM-DD]``).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from orders import states

FINAL = tuple(str(s) for s in states.FINAL)
DAY_SQL = {
    "postgresql": "(COALESCE(o.finished_at, o.created_at) AT TIME ZONE 'UTC')::date",
    "sqlite": "date(COALESCE(o.finished_at, o.created_at))",
}


def rollup_rebuild(*, since: dt.date | None = None) -> int:
    """Recompute the rollup rows from ``since`` (all days when None); returns rows written."""
    day = DAY_SQL[connection.vendor]
    placeholders = ", ".join(["%s"] * len(FINAL))
    where = f"o.status IN ({placeholders})"
    params: list[str | dt.date] = list(FINAL)
    if since is not None:
        where += f" AND {day} >= %s"
        params.append(since)
    counts = ", ".join(
        f"SUM(CASE WHEN o.status = '{status}' THEN 1 ELSE 0 END)"
        for status in ("completed", "partial", "canceled", "failed", "expired")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if since is None:
            cursor.execute("DELETE FROM console_dailyrollup")
        else:
            cursor.execute("DELETE FROM console_dailyrollup WHERE day >= %s", [since])
        # Only constants are formatted into the SQL; the values are parameters.
        cursor.execute(
            "INSERT INTO console_dailyrollup (day, provider_id, service_id, orders, completed,"  # noqa: S608
            " partial, canceled, failed, expired, charge, refunded, cost)"
            f" SELECT {day}, o.provider_id, o.service_id, COUNT(*), {counts},"
            " SUM(o.charge), SUM(o.refunded), SUM(COALESCE(o.cost, 0))"
            f" FROM orders_order o WHERE {where}"
            f" GROUP BY {day}, o.provider_id, o.service_id",
            params,
        )
        return int(cursor.rowcount)
