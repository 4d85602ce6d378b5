"""Encryption at rest for secrets we must be able to read back (provider API keys).

The key ring is UPLINE_ENCRYPTION_KEYS: Fernet keys, newest first. Encryption uses the first;
decryption tries each, so a new key can be prepended and old values re-encrypted at leisure
(`manage.py rotate_provider_keys`).
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError:
        # A malformed or empty ring: say which variable, not Fernet's bare "32 url-safe bytes".
        # (`manage.py check --deploy` reports the same before the first key is ever used.)
        from panel.checks import encryption_key_problem

        raise ImproperlyConfigured(
            encryption_key_problem(list(keys)) or "UPLINE_ENCRYPTION_KEYS is not a key ring."
        ) from None


def _current_ring() -> MultiFernet:
    return _ring(tuple(settings.UPLINE_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current_ring().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current_ring().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("The secret cannot be decrypted with the configured key ring") from exc


def rotate(token: str) -> str:
    """Re-encrypt `token` with the newest key."""
    return _current_ring().rotate(token.encode()).decode()
