import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.services import rollup_rebuild


class Command(BaseCommand):
    help = "Rebuild the dashboard's daily rollup from the orders (all days, or --since a date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="First day to rebuild, YYYY-MM-DD (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError("--since must be a date like 2026-11-30.") from None
        rows = rollup_rebuild(since=since)
        self.stdout.write(f"Rollup rebuilt: {rows} rows.")
