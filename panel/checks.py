"""Production system checks (``manage.py check --deploy``, ``manage.py deploy_check``).

Each catches a configuration mistake that otherwise passes every check and breaks the site
later. Errors only with DEBUG off: the development defaults (SQLite, filesystem broker,
per-process cache, console email) are what they should be in development. Tagged ``deploy``
so that ``migrate`` does not refuse to run before ``collectstatic`` on a fresh server.
Every message names the variable to change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import CheckMessage, Error, Tags
from django.core.checks import register as register_check

# The development default of settings.py: public, so never a production key.
DEVELOPMENT_KEY = "ZGV2LW9ubHktaW5zZWN1cmUta2V5LTAwMDAwMDAwMDA="

# Caches that live inside one process: rate limits would count per gunicorn worker and the
# status-sync lock (cache.add) would not lock across workers.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
# Brokers that only work on one machine and are not meant for production.
DEVELOPMENT_BROKERS = ("filesystem://", "memory://")
# Email backends that deliver nothing anywhere.
NON_DELIVERING_EMAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


def register() -> None:
    for check in (
        check_encryption_keys,
        check_cache,
        check_broker,
        check_static_manifest,
        check_email,
    ):
        register_check(check, Tags.security, deploy=True)


def encryption_key_problem(keys: list[str]) -> str | None:
    """What is wrong with the key ring, as a sentence naming the variable; None if usable."""
    if not keys:
        return (
            'UPLINE_ENCRYPTION_KEYS is empty: set it to a Fernet key (python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except ValueError:
            return (
                f"UPLINE_ENCRYPTION_KEYS: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, 44 characters ending in '=')."
            )
    return None


def check_encryption_keys(**kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    keys = list(settings.UPLINE_ENCRYPTION_KEYS)
    problem = encryption_key_problem(keys)
    if problem is None and DEVELOPMENT_KEY in keys:
        problem = (
            "UPLINE_ENCRYPTION_KEYS contains the public development key: generate a new key, "
            "put it first and run `manage.py rotate_provider_keys`."
        )
    if problem is None:
        return []
    return [Error(problem, id="upline.E001")]


def check_cache(**kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            "CACHE_URL is not set to a shared cache (the cache is per-process memory): rate "
            "limits would count per worker and the status-sync lock would not lock. Set "
            "CACHE_URL=rediscache://<host>:6379/1.",
            id="upline.E002",
        )
    ]


def check_broker(**kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    url = str(settings.CELERY_BROKER_URL)
    if not url.startswith(DEVELOPMENT_BROKERS):
        return []
    return [
        Error(
            f"CELERY_BROKER_URL is {url.split('//')[0]}// (a development transport): set it to "
            "Redis, e.g. CELERY_BROKER_URL=redis://<host>:6379/0.",
            id="upline.E003",
        )
    ]


def static_manifest_problem() -> str | None:
    """Why pages would fail to find their static files; None if the manifest is in place."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None
    manifest = Path(settings.STATIC_ROOT) / staticfiles_storage.manifest_name
    try:
        paths = json.loads(manifest.read_text()).get("paths", {})
    except FileNotFoundError:
        return (
            f"Static files are not collected: {manifest} is missing and every page would be a "
            "500. Run `python manage.py collectstatic --noinput` (STATIC_ROOT is under "
            "UPLINE_VAR_DIR)."
        )
    except (OSError, ValueError, AttributeError) as exc:
        return f"The static files manifest {manifest} cannot be read ({exc}): run collectstatic."
    if "css/panel.css" not in paths:
        return (
            f"The static files manifest {manifest} lacks css/panel.css: run "
            "`python manage.py collectstatic --noinput` again after an upgrade."
        )
    return None


def check_static_manifest(**kwargs: Any) -> list[CheckMessage]:
    problem = None if settings.DEBUG else static_manifest_problem()
    return [] if problem is None else [Error(problem, id="upline.E004")]


def check_email(**kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or not settings.ADMINS:
        return []
    backend = settings.EMAIL_BACKEND
    if backend in NON_DELIVERING_EMAIL:
        problem = (
            f"UPLINE_ADMIN_EMAILS is set but EMAIL_BACKEND ({backend}) delivers nothing: alerts "
            "would be lost. Use django.core.mail.backends.smtp.EmailBackend."
        )
    elif backend == "django.core.mail.backends.smtp.EmailBackend" and not settings.EMAIL_HOST:
        problem = (
            "UPLINE_ADMIN_EMAILS is set but EMAIL_HOST is not: alerts cannot be mailed. Set "
            "EMAIL_HOST (EMAIL_HOST=localhost for a mail server on this machine)."
        )
    else:
        return []
    return [Error(problem, id="upline.E005")]
