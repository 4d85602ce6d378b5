import importlib
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sqlite_rollup_triggers(using: str = "default", **kwargs: Any) -> None:
    # Why: SQLite rebuilds orders_order on most schema changes of later migrations, and a
    # rebuilt table has lost its triggers; without them the dashboard's rollup stops counting.
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    migration = importlib.import_module("console.migrations.0002_rollup_trigger")
    tables = connection.introspection.table_names()
    if "console_dailyrollup" in tables and "orders_order" in tables:
        migration.sqlite_ensure_triggers(connection)


class ConsoleConfig(AppConfig):
    """The operator's console: dashboard and daily rollup, work queues, audit log, alerts."""

    name = "console"
    verbose_name = _("Console")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from console.labels import apply_labels

        apply_labels()
        post_migrate.connect(
            _sqlite_rollup_triggers, sender=self, dispatch_uid="console_sqlite_triggers"
        )
