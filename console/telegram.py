"""Telegram Bot API: one call, ``sendMessage``, over plain HTTPS.

The one place besides panel.smmapi that talks HTTP: the bot API is not a provider, and a
message is safe to send again (the worst case of a retry is a duplicate alert).
"""

from __future__ import annotations

import httpx
from django.conf import settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Telegram refuses longer messages.
MAX_LENGTH = 4000


class TelegramError(Exception):
    """The message was not accepted (network error, HTTP error or ``ok: false``)."""


def configured() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)


def send(*, text: str) -> None:
    """Send ``text`` to the configured chat; raises TelegramError when it did not go through.

    The error never contains the bot token (it is part of the URL).
    """
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
    payload = {
        "chat_id": settings.TELEGRAM_CHAT_ID,
        "text": text[:MAX_LENGTH],
        "disable_web_page_preview": True,
    }
    try:
        response = httpx.post(url, json=payload, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise TelegramError(f"Telegram is unreachable ({type(exc).__name__})") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
        description = body.get("description", "") if isinstance(body, dict) else ""
        raise TelegramError(
            f"Telegram refused the message: HTTP {response.status_code} {description}".strip()
        )
