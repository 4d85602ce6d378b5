"""On PostgreSQL, the database itself refuses UPDATE and DELETE on ledger rows.

The code already refuses (LedgerEntry.save/delete, LedgerQuerySet.update/delete); this closes
the raw-SQL and shell routes too. Row-level triggers do not fire on TRUNCATE, so test database
flushes keep working. Other databases (SQLite in development) rely on the code checks only.
"""

from django.db import migrations

FORWARD_SQL = """
CREATE OR REPLACE FUNCTION accounts_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    -- No percent-sign placeholders: the migration runs this through a DB-API cursor.
    RAISE EXCEPTION USING
        MESSAGE = 'accounts_ledgerentry is append-only: ' || TG_OP || ' is not allowed',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS accounts_ledgerentry_append_only ON accounts_ledgerentry;
CREATE TRIGGER accounts_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounts_ledgerentry_append_only();
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS accounts_ledgerentry_append_only ON accounts_ledgerentry;
DROP FUNCTION IF EXISTS accounts_ledgerentry_append_only();
"""


def _run_on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_payment_note"),
    ]

    operations = [
        migrations.RunPython(
            _run_on_postgresql(FORWARD_SQL), _run_on_postgresql(REVERSE_SQL), elidable=False
        ),
    ]
