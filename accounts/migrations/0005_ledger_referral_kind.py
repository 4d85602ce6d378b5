from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_ledger_append_only_trigger"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("deposit", "Deposit"),
                    ("bonus", "Deposit bonus"),
                    ("order_charge", "Order charge"),
                    ("subscription_charge", "Subscription post charge"),
                    ("refund", "Refund"),
                    ("adjustment", "Manual adjustment"),
                    ("referral", "Referral commission"),
                ],
                max_length=24,
            ),
        ),
    ]
