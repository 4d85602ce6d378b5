"""Providers: create, update, check the connection (balance) and record their health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import CatalogAlert, Provider
from catalog.services.alerts import alerts_raise
from catalog.services.catalogue import services_reprice
from panel import crypto
from panel.money import money
from panel.smmapi import ProviderError, SMMClient

logger = logging.getLogger("catalog.providers")

_UNSET: object = object()


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of a balance call: ``ok`` with the balance, or the error sentence."""

    ok: bool
    message: str
    balance: Decimal | None = None
    currency: str = ""


def _clean_url(api_url: str) -> str:
    url = api_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValidationError({"api_url": "Enter the provider's API URL, starting with https://."})
    return url


def url_host(api_url: str) -> tuple[str, int | None]:
    """The host and port an API URL sends requests (and so the API key) to."""
    parts = urlsplit(api_url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower().rstrip("."), port


KEY_AGAIN_MESSAGE = _(
    "The API URL points to another host: enter the API key again for it. "
    "The stored key is never sent to a new host."
)


def _clean_decimal(value: object, field: str, *, minimum: Decimal, strict: bool) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite() or number < minimum or (strict and number == minimum):
        sign = "greater than" if strict else "at least"
        raise ValidationError({field: f"Must be {sign} {minimum}."})
    return number


def _clean_markup(value: Decimal | str | None, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    # A negative markup sells below cost: refused, the panel never sells at a loss.
    return _clean_decimal(value, field, minimum=Decimal(0), strict=False)


def provider_create(
    *,
    name: str,
    api_url: str,
    api_key: str,
    currency: str = "USD",
    exchange_rate: Decimal | str = Decimal(1),
    default_markup_percent: Decimal | str | None = None,
    sync_interval_minutes: int = 60,
    low_balance_threshold: Decimal | str | None = None,
    is_enabled: bool = True,
) -> Provider:
    """Add a provider; its API key is stored encrypted and never shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    if Provider.objects.filter(name=name).exists():
        raise ValidationError({"name": "A provider with this name already exists."})
    if not api_key.strip():
        raise ValidationError({"api_key": "Enter the provider's API key."})
    provider = Provider(
        name=name,
        api_url=_clean_url(api_url),
        currency=currency.strip().upper()[:3] or "USD",
        exchange_rate=_clean_decimal(
            exchange_rate, "exchange_rate", minimum=Decimal(0), strict=True
        ),
        default_markup_percent=_clean_markup(default_markup_percent, "default_markup_percent"),
        sync_interval_minutes=max(1, int(sync_interval_minutes)),
        low_balance_threshold=None
        if low_balance_threshold in (None, "")
        else money(str(low_balance_threshold)),
        is_enabled=is_enabled,
    )
    provider.api_key = api_key.strip()
    provider.save()
    return provider


def provider_update(
    *,
    provider_id: int,
    name: str | None = None,
    api_url: str | None = None,
    api_key: str | None = None,
    currency: str | None = None,
    exchange_rate: Decimal | str | None = None,
    default_markup_percent: Decimal | str | object | None = _UNSET,
    sync_interval_minutes: int | None = None,
    low_balance_threshold: Decimal | str | object | None = _UNSET,
    is_enabled: bool | None = None,
    is_paused: bool | None = None,
) -> Provider:
    """Change a provider. ``None`` leaves a field as it is (a blank ``api_key`` keeps the key).

    Only the given columns are written, so a concurrent sync's health fields are not clobbered.
    A changed exchange rate or default markup re-prices the provider's services.
    """
    provider = Provider.objects.get(pk=provider_id)
    changed: dict[str, object] = {}
    if name is not None and name.strip() != provider.name:
        if not name.strip():
            raise ValidationError({"name": "Enter a name."})
        if Provider.objects.filter(name=name.strip()).exclude(pk=provider_id).exists():
            raise ValidationError({"name": "A provider with this name already exists."})
        changed["name"] = name.strip()
    new_key = api_key is not None and bool(api_key.strip())
    if api_url is not None:
        url = changed["api_url"] = _clean_url(api_url)
        # Why: the stored key belongs to the host it was entered for; a URL typed to another
        # host (a typo, or a hostile edit) must not receive it on the next call.
        if url_host(url) != url_host(provider.api_url) and not new_key:
            raise ValidationError({"api_key": KEY_AGAIN_MESSAGE})
    if new_key and api_key is not None:
        provider.api_key = api_key.strip()
        changed["api_key_encrypted"] = provider.api_key_encrypted
    if currency is not None:
        changed["currency"] = currency.strip().upper()[:3] or "USD"
    if exchange_rate is not None:
        changed["exchange_rate"] = _clean_decimal(
            exchange_rate, "exchange_rate", minimum=Decimal(0), strict=True
        )
    if default_markup_percent is not _UNSET:
        changed["default_markup_percent"] = _clean_markup(
            default_markup_percent,  # type: ignore[arg-type]
            "default_markup_percent",
        )
    if sync_interval_minutes is not None:
        changed["sync_interval_minutes"] = max(1, int(sync_interval_minutes))
    if low_balance_threshold is not _UNSET:
        changed["low_balance_threshold"] = (
            None if low_balance_threshold in (None, "") else money(str(low_balance_threshold))
        )
    if is_enabled is not None:
        changed["is_enabled"] = is_enabled
    if is_paused is not None and is_paused != provider.is_paused:
        # The orders app pauses a provider that ran out of funds; an admin resumes it here.
        changed["is_paused"] = is_paused
        if not is_paused:
            # Staff clearing the pause also clear a hold for flapping and its count.
            changed.update(paused_reason="", pause_held=False, pause_count=0, pauses_since=None)
    reprice = any(
        key in changed and changed[key] != getattr(provider, key)
        for key in ("exchange_rate", "default_markup_percent")
    )
    with transaction.atomic():
        if changed:
            Provider.objects.filter(pk=provider_id).update(**changed)
        if reprice:
            services_reprice(provider_id=provider_id)
    provider.refresh_from_db()
    return provider


def provider_test_connection(*, provider_id: int) -> ConnectionCheck:
    """Call ``balance`` and record the outcome: balance and last success, or the last error.

    The same call refreshes balances periodically; a balance that falls below the provider's
    threshold raises an alert once (when it crosses, not on every check).
    """
    provider = Provider.objects.get(pk=provider_id)
    try:
        with SMMClient(provider.api_url, provider.api_key) as client:
            answer = client.balance()
    except (ProviderError, ValueError) as exc:
        message = str(exc)
        Provider.objects.filter(pk=provider_id).update(
            last_error=message[:2000], last_error_at=timezone.now()
        )
        logger.warning("Balance check of %s failed: %s", provider, message)
        return ConnectionCheck(ok=False, message=message)
    now = timezone.now()
    balance = money(answer.amount)
    currency = answer.currency or provider.currency
    with transaction.atomic():
        Provider.objects.filter(pk=provider_id).update(
            balance=balance, balance_checked_at=now, last_success_at=now
        )
        threshold = provider.low_balance_threshold
        was_low = (
            provider.balance is not None and threshold is not None and provider.balance < threshold
        )
        if threshold is not None and balance < threshold and not was_low:
            alert = CatalogAlert(
                kind=CatalogAlert.Kind.LOW_BALANCE,
                provider_id=provider_id,
                message=(
                    f"Provider {provider.name}: balance {balance} {currency} is below the "
                    f"threshold {threshold}. Top it up before orders start failing."
                ),
            )
            alerts_raise(alerts=[alert], subject=f"{provider.name}: balance low")
    return ConnectionCheck(
        ok=True,
        message=f"Connected. Balance: {balance} {currency}.",
        balance=balance,
        currency=currency,
    )


def provider_keys_rotate() -> tuple[int, list[str]]:
    """Re-encrypt every provider's API key with the newest key of the ring.

    Returns how many were re-encrypted and the names of providers whose key no key of the ring
    can decrypt (their key must be entered again). Keys are never logged.
    """
    rotated = 0
    failed: list[str] = []
    with transaction.atomic():
        for pk, name, token in (
            Provider.objects.select_for_update()
            .order_by("pk")
            .values_list("pk", "name", "api_key_encrypted")
        ):
            try:
                fresh = crypto.rotate(token)
            except InvalidToken:
                failed.append(name)
                continue
            Provider.objects.filter(pk=pk).update(api_key_encrypted=fresh)
            rotated += 1
    return rotated, failed
