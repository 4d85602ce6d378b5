"""Everything a deployment needs, checked from the server: the production system checks, the
database, broker, cache and static files, the mail server (when alerts are mailed) and one
``balance`` round trip to each enabled provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError

from catalog.models import Provider
from catalog.services import provider_test_connection
from panel.health import check_broker, check_cache, check_database, check_static

Report = Callable[[str, bool, str], None]


class Command(BaseCommand):
    help = (
        "Run the production checks (`check --deploy --fail-level WARNING`), connect to the "
        "database, broker, cache and mail server, and call `balance` at each enabled provider. "
        "Exits non-zero if anything failed."
    )
    # The system checks are one of the things reported, not a precondition.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        failures: list[str] = []

        def report(name: str, ok: bool, detail: str = "") -> None:
            if ok:
                self.stdout.write(f"OK    {name}{': ' + detail if detail else ''}")
            else:
                failures.append(name)
                self.stdout.write(self.style.ERROR(f"FAIL  {name}: {detail}"))

        try:
            call_command(
                "check", deploy=True, fail_level="WARNING", stdout=self.stdout, stderr=self.stderr
            )
        except SystemCheckError as exc:
            self.stdout.write(str(exc))
            report("system checks", False, "see above")
        else:
            report("system checks", True, "check --deploy --fail-level WARNING passes")

        for name, probe in (
            ("database", check_database),
            ("broker", check_broker),
            ("cache", check_cache),
            ("static files", check_static),
        ):
            result = probe()
            report(name, result.ok, result.error)
            if name == "database" and not result.ok:
                break
        else:
            self._check_email(report)
            self._check_providers(report)

        if failures:
            raise CommandError(f"{len(failures)} failed: {', '.join(failures)}.")
        self.stdout.write(self.style.SUCCESS("Deploy check passed."))

    def _check_email(self, report: Report) -> None:
        if not settings.ADMINS:
            self.stdout.write("SKIP  mail server: UPLINE_ADMIN_EMAILS is empty")
            return
        if settings.EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
            self.stdout.write(f"SKIP  mail server: EMAIL_BACKEND is {settings.EMAIL_BACKEND}")
            return
        where = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        try:
            connection = get_connection(fail_silently=False, timeout=10)
            connection.open()
            connection.close()
        except Exception as exc:
            report("mail server", False, f"{where} (EMAIL_HOST/EMAIL_PORT): {exc}")
            return
        report("mail server", True, f"{where} accepted a connection")

    def _check_providers(self, report: Report) -> None:
        providers = list(Provider.objects.filter(is_enabled=True).order_by("pk"))
        if not providers:
            self.stdout.write("SKIP  providers: none enabled (add one: manage.py provider_add URL)")
        for provider in providers:
            result = provider_test_connection(provider_id=provider.pk)
            report(f"provider #{provider.pk} {provider.name}", result.ok, result.message)
