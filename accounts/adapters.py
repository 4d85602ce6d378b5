"""allauth adapter: login brute-force protection that strangers cannot turn into a lockout."""

from __future__ import annotations

import ipaddress
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from accounts.authentication import client_ip
from referrals.services import referral_attach
from referrals.views import SESSION_KEY as REFERRAL_SESSION_KEY

TOO_MANY_ATTEMPTS_CODE = "too_many_login_attempts"


def _ip_bucket(ip: str) -> str:
    """The client address as rate limits see it: IPv6 clients own a whole /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


def login_cool_off_seconds() -> int:
    """The longest window of the `login_failed` limits: how long a locked-out client waits."""
    rates = settings.ACCOUNT_RATE_LIMITS.get("login_failed") or ""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    longest = 0
    for rate in rates.split(","):
        parts = rate.strip().split("/")
        if len(parts) < 2 or not parts[1] or parts[1][-1] not in units:
            continue
        count = parts[1][:-1]
        longest = max(longest, int(float(count or 1) * units[parts[1][-1]]))
    return longest or 300


def too_many_attempts_response(request: HttpRequest) -> HttpResponse:
    minutes = max(1, round(login_cool_off_seconds() / 60))
    message = ngettext(
        "Too many failed login attempts for this account from your network. "
        "Please wait %(minutes)s minute and try again, or reset your password.",
        "Too many failed login attempts for this account from your network. "
        "Please wait %(minutes)s minutes and try again, or reset your password.",
        minutes,
    ) % {"minutes": minutes}
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(login_cool_off_seconds())
    return response


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address the API and page limits use (UPLINE_TRUSTED_PROXY_COUNT aware).
        ip = client_ip(request)
        if not ip:
            return super().get_client_ip(request)
        return ip

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # Why: allauth keys the per-account `login_failed` limit on the login alone, so anyone
        # could lock a victim out by failing on purpose with their email. Adding the client
        # address makes the per-account limit per (account + IP); the separate per-IP limit
        # still caps one address guessing across many accounts.
        base = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{base}:{_ip_bucket(self.get_client_ip(request))}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            if exc.code == TOO_MANY_ATTEMPTS_CODE:
                # A real 429 (with Retry-After) instead of a form error; AccountMiddleware
                # returns the response carried by ImmediateHttpResponse.
                raise ImmediateHttpResponse(too_many_attempts_response(request)) from exc
            raise

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        # A new account that arrived through a referral link (referrals.views) is attached to
        # its referrer; the services refuse self-referral and accounts already referred.
        code = request.session.pop(REFERRAL_SESSION_KEY, "")
        if commit and code:
            referral_attach(user=user, code=str(code))
        return user
