"""The trigger that keeps console_dailyrollup up to date as orders settle.

On every insert or update of an order in a final status it adds to the row of the day the
order settled (finished_at, else created_at; UTC): one order and one status count when it
first reaches a final status, and the difference of charge, refunded and cost after that (a
refund recorded after the status, a corrected cost). Runs in the writer's transaction, so each
settlement counts once, whichever service made it. See console.services.rollup.
"""

from django.db import migrations

FINAL = "('completed', 'partial', 'canceled', 'failed', 'expired')"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION console_rollup_order() RETURNS trigger AS $$
DECLARE
    was_final boolean := false;
    old_charge numeric := 0;
    old_refunded numeric := 0;
    old_cost numeric := 0;
BEGIN
    IF NEW.status NOT IN {FINAL} THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN {FINAL} THEN
        was_final := true;
        old_charge := OLD.charge;
        old_refunded := OLD.refunded;
        old_cost := COALESCE(OLD.cost, 0);
        IF NEW.charge = old_charge AND NEW.refunded = old_refunded
           AND COALESCE(NEW.cost, 0) = old_cost THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO console_dailyrollup AS r
        (day, provider_id, service_id, orders, completed, partial, canceled, failed, expired,
         charge, refunded, cost)
    VALUES (
        (COALESCE(NEW.finished_at, NEW.created_at) AT TIME ZONE 'UTC')::date,
        NEW.provider_id, NEW.service_id,
        CASE WHEN was_final THEN 0 ELSE 1 END,
        CASE WHEN NOT was_final AND NEW.status = 'completed' THEN 1 ELSE 0 END,
        CASE WHEN NOT was_final AND NEW.status = 'partial' THEN 1 ELSE 0 END,
        CASE WHEN NOT was_final AND NEW.status = 'canceled' THEN 1 ELSE 0 END,
        CASE WHEN NOT was_final AND NEW.status = 'failed' THEN 1 ELSE 0 END,
        CASE WHEN NOT was_final AND NEW.status = 'expired' THEN 1 ELSE 0 END,
        NEW.charge - old_charge, NEW.refunded - old_refunded, COALESCE(NEW.cost, 0) - old_cost
    )
    ON CONFLICT (day, provider_id, service_id) DO UPDATE SET
        orders = r.orders + EXCLUDED.orders,
        completed = r.completed + EXCLUDED.completed,
        partial = r.partial + EXCLUDED.partial,
        canceled = r.canceled + EXCLUDED.canceled,
        failed = r.failed + EXCLUDED.failed,
        expired = r.expired + EXCLUDED.expired,
        charge = r.charge + EXCLUDED.charge,
        refunded = r.refunded + EXCLUDED.refunded,
        cost = r.cost + EXCLUDED.cost;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS console_rollup_order ON orders_order;
CREATE TRIGGER console_rollup_order AFTER INSERT OR UPDATE ON orders_order
    FOR EACH ROW EXECUTE FUNCTION console_rollup_order();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS console_rollup_order ON orders_order;
DROP FUNCTION IF EXISTS console_rollup_order();
"""


def _sqlite_upsert(row: str, first: bool) -> str:
    """One SQLite statement: ``row`` is NEW (first time final) or the NEW-OLD difference."""
    one = "1" if first else "0"

    def status(name: str) -> str:
        return f"CASE WHEN NEW.status = '{name}' THEN 1 ELSE 0 END" if first else "0"

    if first:
        amounts = "NEW.charge, NEW.refunded, COALESCE(NEW.cost, 0)"
    else:
        amounts = (
            "NEW.charge - OLD.charge, NEW.refunded - OLD.refunded,"
            " COALESCE(NEW.cost, 0) - COALESCE(OLD.cost, 0)"
        )
    statuses = ", ".join(status(s) for s in ("completed", "partial", "canceled", "failed", "expired"))
    return f"""
    INSERT INTO console_dailyrollup
        (day, provider_id, service_id, orders, completed, partial, canceled, failed, expired,
         charge, refunded, cost)
    VALUES (date(COALESCE(NEW.finished_at, NEW.created_at)), NEW.provider_id, NEW.service_id,
            {one}, {statuses}, {amounts})
    ON CONFLICT (day, provider_id, service_id) DO UPDATE SET
        orders = orders + excluded.orders, completed = completed + excluded.completed,
        partial = partial + excluded.partial, canceled = canceled + excluded.canceled,
        failed = failed + excluded.failed, expired = expired + excluded.expired,
        charge = charge + excluded.charge, refunded = refunded + excluded.refunded,
        cost = cost + excluded.cost;"""


SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS console_rollup_insert AFTER INSERT ON orders_order
    WHEN NEW.status IN {FINAL}
    BEGIN {_sqlite_upsert("NEW", True)} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS console_rollup_settle AFTER UPDATE ON orders_order
    WHEN NEW.status IN {FINAL} AND OLD.status NOT IN {FINAL}
    BEGIN {_sqlite_upsert("NEW", True)} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS console_rollup_amounts AFTER UPDATE ON orders_order
    WHEN NEW.status IN {FINAL} AND OLD.status IN {FINAL}
      AND (NEW.charge != OLD.charge OR NEW.refunded != OLD.refunded
           OR COALESCE(NEW.cost, 0) != COALESCE(OLD.cost, 0))
    BEGIN {_sqlite_upsert("DIFF", False)} END;""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS console_rollup_insert;",
    "DROP TRIGGER IF EXISTS console_rollup_settle;",
    "DROP TRIGGER IF EXISTS console_rollup_amounts;",
]


def sqlite_ensure_triggers(connection) -> None:
    """(Re)create the SQLite triggers: SQLite rebuilds a table on most ALTERs, which drops its
    triggers, so console.apps runs this after every migrate (PostgreSQL keeps them)."""
    with connection.cursor() as cursor:
        for statement in SQLITE:
            cursor.execute(statement)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        sqlite_ensure_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_rollup_audit_notifications"),
        ("orders", "0003_refill_review_counts_as_open"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
