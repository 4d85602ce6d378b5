from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = (
        "Verify that every user's ledger sums to their balance and that each entry's "
        "balance_after chains from the previous one. Exits non-zero on any discrepancy."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for discrepancy in ledger_discrepancies():
            count += 1
            self.stdout.write(
                f"user {discrepancy.user_id} ({discrepancy.email}): {discrepancy.message}"
            )
        if count:
            raise CommandError(f"{count} ledger discrepanc{'y' if count == 1 else 'ies'} found")
        self.stdout.write(self.style.SUCCESS("Ledger OK: every balance matches its ledger."))
