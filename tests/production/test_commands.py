"""Operations commands: each prints what it did and exits non-zero on failure."""

import io
import json
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import LedgerEntry, User
from catalog.models import Provider, Service
from simulator import Simulator
from tests.factories import UserFactory
from tests.production.conftest import SIM_KEY
from tests.production.helpers import closed_port


def run(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def key_typed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return SIM_KEY

    monkeypatch.setattr("getpass.getpass", getpass)
    return prompts


def test_it_adds_a_provider_and_prints_what_it_imported(
    db: None, sim: Simulator, key_typed: list[str]
) -> None:
    out = run("provider_add", sim.url, "--name", "Upstream", "--markup", "25")

    provider = Provider.objects.get(name="Upstream")
    assert key_typed == ["API key for Upstream: "]
    assert provider.api_key == SIM_KEY
    assert provider.default_markup_percent == Decimal(25)
    assert Service.objects.filter(provider=provider).count() == 20
    assert out.splitlines() == [
        f"Saved provider #{provider.pk} Upstream ({sim.url}).",
        "Connected. Balance: 1000.00000 USD.",
        "Imported the catalogue of Upstream: 20 received, 0 skipped, 20 created, 0 updated, "
        f"0 vanished, 0 rate changes, 0 below cost, "
        f"{provider.last_sync_stats['categories_created']} categories created.",
        "New services stay disabled until you enable them in the admin (Services).",
    ]
    assert SIM_KEY not in out


def test_it_refuses_a_bad_url_and_saves_nothing(db: None, key_typed: list[str]) -> None:
    with pytest.raises(CommandError, match=r"^Provider not saved: api_url: Enter the provider"):
        run("provider_add", "ftp://nowhere")
    assert not Provider.objects.exists()


def test_it_fails_when_the_provider_does_not_answer(db: None, key_typed: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v2"
    with pytest.raises(CommandError, match=r"is saved, but `balance` failed: balance: not deliv"):
        run("provider_add", url)
    assert Provider.objects.get().services.count() == 0


def test_it_credits_a_user_through_the_ledger(db: None) -> None:
    user = UserFactory(email="buyer@example.com")
    staff = UserFactory(email="ops@example.com", is_staff=True)

    out = run(
        "user_credit", "Buyer@example.com", "12.5", "--reason", "Wire 42", "--by", staff.email
    )

    entry = LedgerEntry.objects.get(user=user)
    assert (entry.kind, entry.amount, entry.reason, entry.created_by) == (
        LedgerEntry.Kind.ADJUSTMENT,
        Decimal("12.5"),
        "Wire 42",
        staff,
    )
    user.refresh_from_db()
    assert user.balance == Decimal("12.5")
    assert out.strip() == (
        f"Credited 12.50000 USD to buyer@example.com (ledger entry #{entry.pk}): "
        "the balance is now 12.50000."
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["nobody@example.com", "5", "--reason", "x"],
            "No user with the email nobody@example.com.",
        ),
        (["buyer@example.com", "five", "--reason", "x"], "'five' is not an amount."),
        (["buyer@example.com", "-5", "--reason", "x"], "The amount must be greater than zero."),
        (["buyer@example.com", "NaN", "--reason", "x"], "The amount must be greater than zero."),
        (
            ["buyer@example.com", "1e30", "--reason", "x"],
            "The amount must be at most 1,000,000,000.",
        ),
        (["buyer@example.com", "5", "--reason", " "], "Give a --reason"),
        (
            ["buyer@example.com", "5", "--reason", "x", "--by", "buyer@example.com"],
            "No staff user with the email buyer@example.com.",
        ),
    ],
)
def test_it_refuses_a_credit_it_cannot_make(db: None, args: list[str], error: str) -> None:
    UserFactory(email="buyer@example.com")
    with pytest.raises(CommandError) as failure:
        run("user_credit", *args)
    assert str(failure.value).startswith(error)
    assert not LedgerEntry.objects.exists()
    assert User.objects.get(email="buyer@example.com").balance == 0


@pytest.fixture
def production(
    settings: Any,
    tmp_path: Path,
    db: None,
    requires_postgres: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Production settings as the README documents them (Redis cache and broker, collected
    static files), on the test database."""
    # The browser tests' conftest sets this for Playwright; a deploy check rightly refuses it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    settings.DEBUG = False
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.ADMINS = []
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    manifest = {"paths": {"css/panel.css": "css/panel.1.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return settings


def test_deploy_check_passes_and_calls_each_provider(production: Any, sim: Simulator) -> None:
    provider = Provider.objects.create(name="Sim", api_url=sim.url, api_key=SIM_KEY)
    out = run("deploy_check")
    assert [line for line in out.splitlines() if line.startswith(("OK", "SKIP", "FAIL"))] == [
        "OK    system checks: check --deploy --fail-level WARNING passes",
        "OK    database",
        "OK    broker",
        "OK    cache",
        "OK    static files",
        "SKIP  mail server: UPLINE_ADMIN_EMAILS is empty",
        f"OK    provider #{provider.pk} Sim: Connected. Balance: 1000.00000 USD.",
    ]
    assert out.rstrip().endswith("Deploy check passed.")


def test_deploy_check_reports_failing_system_checks(production: Any) -> None:
    production.UPLINE_ENCRYPTION_KEYS = ["notakey"]
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 failed: system checks\.$"):
        call_command("deploy_check", stdout=out, stderr=io.StringIO())
    assert "(upline.E001) UPLINE_ENCRYPTION_KEYS: key 1 of 1" in out.getvalue()


def test_deploy_check_fails_on_a_dead_broker_and_provider(production: Any) -> None:
    production.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    Provider.objects.create(
        name="Gone", api_url=f"http://127.0.0.1:{closed_port()}/api/v2", api_key="k-123456"
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^2 failed: broker, provider #\d+ Gone\.$"):
        call_command("deploy_check", stdout=out, stderr=io.StringIO())
    assert "FAIL  broker: OperationalError" in out.getvalue()


def test_deploy_check_fails_when_no_mail_server_answers(production: Any) -> None:
    production.ADMINS = [("Admin", "ops@example.com")]
    production.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    production.EMAIL_HOST = "127.0.0.1"
    production.EMAIL_PORT = closed_port()
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 failed: mail server\.$"):
        call_command("deploy_check", stdout=out, stderr=io.StringIO())
    assert f"FAIL  mail server: 127.0.0.1:{production.EMAIL_PORT} (EMAIL_HOST/EMAIL_PORT)" in (
        out.getvalue()
    )
