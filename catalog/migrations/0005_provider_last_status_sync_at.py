from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_rollup_audit_notifications'),
    ]

    operations = [
        migrations.AddField(
            model_name='provider',
            name='last_status_sync_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
