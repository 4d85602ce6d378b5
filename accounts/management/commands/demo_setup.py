"""Prepare a development panel: a demo admin, a funded demo customer and a demo provider that
points at the built-in simulator, with its catalogue synced and enabled. Safe to run again."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit
from catalog.models import Provider, Service
from catalog.services import provider_create, provider_sync_catalogue
from simulator import run_simulator

ADMIN_EMAIL = "admin@example.com"
CUSTOMER_EMAIL = "customer@example.com"
DEMO_PASSWORD = "upline-demo-123"  # noqa: S105 - development only; refused when DEBUG is off
SIMULATOR_KEY = "sim-key"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class Command(BaseCommand):
    help = "Create the demo admin, customer and simulator provider (development only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--simulator-port", type=int, default=9100)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup creates well-known logins: refused when DEBUG is off")
        port = options["simulator_port"]

        admin, created = User.objects.get_or_create(
            email=ADMIN_EMAIL, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        customer, created = User.objects.get_or_create(email=CUSTOMER_EMAIL)
        if created:
            customer.set_password(DEMO_PASSWORD)
            customer.first_name = "Demo"
            customer.save()
            balance_credit(
                user=customer,
                amount=Decimal("100.00"),
                kind=LedgerEntry.Kind.ADJUSTMENT,
                reason="Demo balance",
                created_by=admin,
            )

        api_url = f"http://127.0.0.1:{port}/api/v2"
        provider = Provider.objects.filter(name="Demo simulator").first()
        if provider is None:
            provider = provider_create(
                name="Demo simulator", api_url=api_url, api_key=SIMULATOR_KEY
            )

        with ExitStack() as stack:
            # Why: `make run` starts the long-running simulator only after this command; its
            # catalogue is generated from the same seed, so syncing from a short-lived one on
            # the same port gives the same upstream ids.
            if not _port_open("127.0.0.1", port):
                stack.enter_context(run_simulator(port=port, key=SIMULATOR_KEY))
            result = provider_sync_catalogue(provider_id=provider.pk)
        enabled = Service.objects.filter(provider=provider, is_enabled=False).update(
            is_enabled=True
        )

        customer.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {result.received} services synced from the simulator "
                f"({result.created} new, {enabled} enabled now).\n"
                f"  Panel:    http://127.0.0.1:8000/\n"
                f"  Admin:    http://127.0.0.1:8000/admin/  {ADMIN_EMAIL} / {DEMO_PASSWORD}\n"
                f"  Customer: {CUSTOMER_EMAIL} / {DEMO_PASSWORD} "
                f"(balance {customer.balance:.2f} {settings.PANEL_CURRENCY})\n"
                f"  Simulator provider: {api_url}"
            )
        )
