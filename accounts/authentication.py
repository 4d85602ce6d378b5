from __future__ import annotations

from django.http import HttpRequest
from rest_framework import authentication, exceptions

from accounts.models import User
from accounts.services import api_key_authenticate


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """REST API authentication by the account's API key in the `X-Api-Key` header."""

    def authenticate(self, request: HttpRequest) -> tuple[User, None] | None:
        raw_key = request.headers.get("X-Api-Key")
        if not raw_key:
            return None
        user = api_key_authenticate(raw_key=raw_key, ip=client_ip(request))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid API key")
        return user, None

    def authenticate_header(self, request: HttpRequest) -> str:
        return "X-Api-Key"
