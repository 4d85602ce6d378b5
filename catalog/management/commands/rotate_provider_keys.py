"""Re-encrypt every provider API key with the newest key of UPLINE_ENCRYPTION_KEYS.

Rotation: prepend a new Fernet key to UPLINE_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys from the ring. Keys are never printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.services import provider_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt provider API keys with the newest key of the key ring."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated, failed = provider_keys_rotate()
        self.stdout.write(f"Re-encrypted {rotated} provider key(s).")
        if failed:
            raise CommandError(
                "These providers' keys cannot be decrypted with the configured key ring "
                f"(enter their keys again in the admin): {', '.join(failed)}"
            )
