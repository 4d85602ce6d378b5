from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework import authentication, exceptions

from accounts.models import User
from accounts.services import api_key_authenticate


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, as every rate limit (API, login, web pages) counts it.

    Behind UPLINE_TRUSTED_PROXY_COUNT reverse proxies REMOTE_ADDR is the nearest proxy (all
    clients would share one limit), so the address comes from X-Forwarded-For: the entry the
    outermost trusted proxy appended. Entries further left are written by the client and
    never trusted; without the setting the header is ignored entirely.
    """
    proxies = int(settings.UPLINE_TRUSTED_PROXY_COUNT)
    if proxies > 0:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """REST API authentication by the account's API key in the `X-Api-Key` header."""

    def authenticate(self, request: HttpRequest) -> tuple[User, None] | None:
        raw_key = request.headers.get("X-Api-Key")
        if not raw_key:
            return None
        if "\x00" in raw_key:
            # PostgreSQL cannot compare text with NUL in it; no key has one anyway.
            raise exceptions.AuthenticationFailed("Invalid API key")
        user = api_key_authenticate(raw_key=raw_key, ip=client_ip(request))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid API key")
        return user, None

    def authenticate_header(self, request: HttpRequest) -> str:
        return "X-Api-Key"
