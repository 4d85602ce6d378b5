"""The production system checks: each mistake is an Error naming the variable; the
documented setup passes `check --deploy --fail-level WARNING`."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from panel import checks, crypto

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def production(settings: Any) -> Any:
    settings.DEBUG = False
    return settings


def test_it_refuses_a_malformed_key_ring_naming_the_variable(production: Any) -> None:
    production.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "notakey"]
    [error] = checks.check_encryption_keys()
    assert error.id == "upline.E001"
    assert error.msg.startswith("UPLINE_ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key")


def test_it_refuses_an_empty_key_ring_and_the_development_key(production: Any) -> None:
    production.UPLINE_ENCRYPTION_KEYS = []
    assert "UPLINE_ENCRYPTION_KEYS is empty" in checks.check_encryption_keys()[0].msg
    production.UPLINE_ENCRYPTION_KEYS = [checks.DEVELOPMENT_KEY]
    assert "public development key" in checks.check_encryption_keys()[0].msg


def test_it_accepts_a_ring_of_fernet_keys(production: Any) -> None:
    production.UPLINE_ENCRYPTION_KEYS = [Fernet.generate_key().decode() for _ in range(2)]
    assert checks.check_encryption_keys() == []


def test_it_names_the_variable_when_a_key_is_first_used(production: Any) -> None:
    production.UPLINE_ENCRYPTION_KEYS = ["notakey"]
    with pytest.raises(ImproperlyConfigured, match=r"^UPLINE_ENCRYPTION_KEYS: key 1 of 1"):
        crypto.encrypt("provider key")


def test_it_refuses_a_per_process_cache(production: Any) -> None:
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    [error] = checks.check_cache()
    assert (error.id, error.msg.split(" ")[0]) == ("upline.E002", "CACHE_URL")


def test_it_accepts_redis_as_the_cache(production: Any) -> None:
    production.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert checks.check_cache() == []


@pytest.mark.parametrize("url", ["filesystem://", "memory://"])
def test_it_refuses_a_development_broker(production: Any, url: str) -> None:
    production.CELERY_BROKER_URL = url
    [error] = checks.check_broker()
    assert error.id == "upline.E003"
    assert error.msg.startswith(f"CELERY_BROKER_URL is {url} (a development transport)")


def test_it_accepts_a_redis_broker(production: Any) -> None:
    production.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert checks.check_broker() == []


def test_it_refuses_pages_without_collected_static_files(production: Any, tmp_path: Path) -> None:
    production.STORAGES = MANIFEST_STORAGE
    production.STATIC_ROOT = tmp_path
    [error] = checks.check_static_manifest()
    assert error.id == "upline.E004"
    assert "collectstatic" in error.msg
    assert "UPLINE_VAR_DIR" in error.msg


def test_it_refuses_a_manifest_without_the_panel_stylesheet(
    production: Any, tmp_path: Path
) -> None:
    production.STORAGES = MANIFEST_STORAGE
    production.STATIC_ROOT = tmp_path
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
    assert "lacks css/panel.css" in checks.check_static_manifest()[0].msg


def test_it_accepts_a_collected_manifest(production: Any, tmp_path: Path) -> None:
    production.STORAGES = MANIFEST_STORAGE
    production.STATIC_ROOT = tmp_path
    manifest = {"paths": {"css/panel.css": "css/panel.0123.css"}, "version": "1.1"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    assert checks.check_static_manifest() == []


def test_it_refuses_alert_emails_without_a_mail_server(production: Any) -> None:
    production.ADMINS = [("Admin", "ops@example.com")]
    production.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    production.EMAIL_HOST = ""
    [error] = checks.check_email()
    assert error.id == "upline.E005"
    assert error.msg.startswith("UPLINE_ADMIN_EMAILS is set but EMAIL_HOST is not")


def test_it_refuses_alert_emails_to_the_console(production: Any) -> None:
    production.ADMINS = [("Admin", "ops@example.com")]
    production.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert "delivers nothing" in checks.check_email()[0].msg


def test_it_accepts_smtp_with_a_host_or_no_alert_emails(production: Any) -> None:
    production.ADMINS = [("Admin", "ops@example.com")]
    production.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    production.EMAIL_HOST = "smtp.example.com"
    assert checks.check_email() == []
    production.ADMINS = []
    production.EMAIL_HOST = ""
    assert checks.check_email() == []


def test_it_checks_nothing_in_development(settings: Any) -> None:
    settings.DEBUG = True
    settings.UPLINE_ENCRYPTION_KEYS = ["notakey"]
    settings.CELERY_BROKER_URL = "filesystem://"
    assert checks.check_encryption_keys() + checks.check_broker() == []


# --- `manage.py check --deploy` in a production process -------------------------------------


def production_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "UPLINE_", "EMAIL_", "CACHE_", "CELERY_"))
    }
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="panel.example.com",
        UPLINE_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        UPLINE_VAR_DIR=str(var_dir),
        DATABASE_URL="sqlite:///" + str(var_dir / "db.sqlite3"),
        CACHE_URL="redis://127.0.0.1:6379/9",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/9",
        UPLINE_ADMIN_EMAILS="ops@example.com",
        EMAIL_HOST="smtp.example.com",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_passes_check_deploy_with_the_documented_variables(tmp_path: Path) -> None:
    # TLS ended at a proxy: no SSL redirect, and no W008 for it.
    env = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="false")
    collected = manage(env, "collectstatic", "--noinput", "-v0")
    assert collected.returncode == 0, collected.stderr
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "W008" not in result.stdout + result.stderr


def test_it_fails_check_deploy_on_each_mistake_of_the_issue(tmp_path: Path) -> None:
    env = production_env(tmp_path, UPLINE_ENCRYPTION_KEYS="notakey")
    for unset in ("CACHE_URL", "CELERY_BROKER_URL", "EMAIL_HOST"):
        del env[unset]
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    for sentence in (
        "(upline.E001) UPLINE_ENCRYPTION_KEYS: key 1 of 1 is not a Fernet key",
        "(upline.E002) CACHE_URL is not set to a shared cache",
        "(upline.E003) CELERY_BROKER_URL is filesystem://",
        "(upline.E004) Static files are not collected",
        "(upline.E005) UPLINE_ADMIN_EMAILS is set but EMAIL_HOST is not",
    ):
        assert sentence in result.stderr
