"""Drops the order indexes that others already cover (status sync writes every index each
time it moves an order): user (order_user_recent), provider (order_provider_status), and
status's LIKE-only twin; the plain status index is kept as order_status.

Only the indexes change in the database: dropping and re-adding the foreign keys, as the
generated AlterFields would, re-validates them against every order under a lock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_provider_last_status_sync_at"),
        ("orders", "0006_console_queue_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="catalog.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("sending", "Sending"),
                            ("sent", "Pending"),
                            ("in_progress", "In progress"),
                            ("completed", "Completed"),
                            ("partial", "Partial"),
                            ("canceled", "Canceled"),
                            ("failed", "Failed"),
                            ("needs_review", "Needs review"),
                            ("active", "Active"),
                            ("paused", "Paused"),
                            ("expired", "Expired"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                migrations.AlterField(
                    model_name="order",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddIndex(
                    model_name="order",
                    index=models.Index(fields=["status"], name="order_status"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "orders_order_provider_id_8c5b5fe6"',
                        'DROP INDEX IF EXISTS "orders_order_user_id_e9b59eb1"',
                        'DROP INDEX IF EXISTS "orders_order_status_445594e5_like"',
                        'DROP INDEX IF EXISTS "orders_order_status_445594e5"',
                        'CREATE INDEX "order_status" ON "orders_order" ("status")',
                    ],
                    reverse_sql=[
                        'DROP INDEX "order_status"',
                        'CREATE INDEX "orders_order_status_445594e5" ON "orders_order" ("status")',
                        'CREATE INDEX "orders_order_user_id_e9b59eb1" ON "orders_order" ("user_id")',
                        'CREATE INDEX "orders_order_provider_id_8c5b5fe6" '
                        'ON "orders_order" ("provider_id")',
                    ],
                ),
            ],
        ),
    ]
