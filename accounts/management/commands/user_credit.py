"""Credit a customer's balance from the command line: one ledger row, like an admin adjustment."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit

MAX_CREDIT = Decimal("1000000000")


class Command(BaseCommand):
    help = "Add AMOUNT to the balance of the user with EMAIL (a manual adjustment with a reason)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("amount", help=f"in {settings.PANEL_CURRENCY}, e.g. 25.00")
        parser.add_argument("--reason", required=True, help="kept on the ledger entry")
        parser.add_argument("--by", default="", help="email of the staff member responsible")

    def handle(self, *args: Any, **options: Any) -> None:
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("Give a --reason: it is kept on the ledger entry.")
        try:
            amount = Decimal(options["amount"].strip())
        except InvalidOperation:
            raise CommandError(f"{options['amount']!r} is not an amount.") from None
        if not amount.is_finite() or amount <= 0:
            raise CommandError("The amount must be greater than zero.")
        if amount > MAX_CREDIT:
            # Far below what a balance column holds; a typo, not a deposit.
            raise CommandError(f"The amount must be at most {MAX_CREDIT:,}.")
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {options['email']}.")
        staff = None
        if options["by"]:
            staff = User.objects.filter(email__iexact=options["by"].strip(), is_staff=True).first()
            if staff is None:
                raise CommandError(f"No staff user with the email {options['by']}.")
        entry = balance_credit(
            user=user,
            amount=amount,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            reason=reason,
            created_by=staff,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Credited {entry.amount} {settings.PANEL_CURRENCY} to {user.email} "
                f"(ledger entry #{entry.pk}): the balance is now {entry.balance_after}."
            )
        )
