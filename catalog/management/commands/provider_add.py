"""Add a provider from the command line: the key is asked for without echo, then the catalogue
is synced and what it imported is printed."""

from __future__ import annotations

import getpass
import sys
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.services import provider_create, provider_sync_catalogue, provider_test_connection


class Command(BaseCommand):
    help = (
        "Add an SMM API v2 provider: asks for its API key (not echoed), checks the connection "
        "with `balance`, syncs its catalogue and prints what was imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the provider's API URL, e.g. https://panel.example/api/v2")
        parser.add_argument("--name", help="a name for the admin (default: the URL's host)")
        parser.add_argument("--currency", default="USD", help="the provider's currency")
        parser.add_argument(
            "--exchange-rate", default="1", help="panel currency units per provider unit"
        )
        parser.add_argument("--markup", default=None, help="default markup percent")
        parser.add_argument("--sync-interval", type=int, default=60, help="minutes")
        parser.add_argument(
            "--api-key-stdin",
            action="store_true",
            help="read the key from the first line of standard input (for scripts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["url"]
        name = options["name"] or urlsplit(url.strip()).netloc or url
        if options["api_key_stdin"]:
            api_key = sys.stdin.readline().strip()
        else:
            api_key = getpass.getpass(f"API key for {name}: ").strip()
        if not api_key:
            raise CommandError("No API key given: nothing was saved.")
        try:
            provider = provider_create(
                name=name,
                api_url=url,
                api_key=api_key,
                currency=options["currency"],
                exchange_rate=options["exchange_rate"],
                default_markup_percent=options["markup"],
                sync_interval_minutes=options["sync_interval"],
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(f"Provider not saved: {problems}") from None
        self.stdout.write(f"Saved provider #{provider.pk} {provider.name} ({provider.api_url}).")

        check = provider_test_connection(provider_id=provider.pk)
        if not check.ok:
            raise CommandError(
                f"Provider #{provider.pk} is saved, but `balance` failed: {check.message} "
                "Fix the URL or key in the admin, then sync it there."
            )
        self.stdout.write(check.message)

        result = provider_sync_catalogue(provider_id=provider.pk)
        if result.status != "ok":
            raise CommandError(
                f"Provider #{provider.pk} is saved, but the catalogue sync {result.status}: "
                f"{result.error or 'see the log'}"
            )
        stats = ", ".join(
            f"{count} {what.replace('_', ' ')}" for what, count in result.stats().items()
        )
        self.stdout.write(
            self.style.SUCCESS(f"Imported the catalogue of {provider.name}: {stats}.")
        )
        if result.created and not settings.CATALOG_NEW_SERVICES_ENABLED:
            self.stdout.write(
                "New services stay disabled until you enable them in the admin (Services)."
            )
