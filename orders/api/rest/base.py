"""What every REST view shares: rate limits before authentication, error bodies, the schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, parsers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import client_ip
from orders.api import ratelimit
from orders.api.rest import schema as _schema  # noqa: F401  (registers the auth scheme)
from orders.api.rest.errors import ErrorSerializer, RateLimited, exception_handler

# Documented on every operation: anyone can be unauthenticated, refused or rate limited.
COMMON_ERRORS = ("401", "403", "429")
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`fields` says which), or refused by the order rules (`api_error`).",
    "401": "No credentials, or an invalid API key.",
    "403": "Not allowed (a session request without its CSRF token).",
    "404": "No such object among yours, or a page past the end.",
    "429": "Too many requests from this key or address; see Retry-After.",
}


class ApiSchema(AutoSchema):
    """Adds the error responses every operation can give, with the one error body."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = list(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if "{" in self.path or self._is_list_view():
            codes.append("404")  # an unknown id, or a page past the end
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; JSON nested past the stack is a 400 like any bad JSON, not a 500."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class ApiMixin:
    """Mixed into every REST view (before the DRF class)."""

    schema = ApiSchema()
    pagination_class = Pagination
    parser_classes = (JSONParser, parsers.FormParser, parsers.MultiPartParser)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before DRF authenticates (a query and a hash): a flood costs cache round trips only.
        ip = client_ip(request)
        limited = ratelimit.check_ip(ip=ip)
        raw_key = (request.headers.get("X-Api-Key") or "").strip()
        if limited is None and raw_key:
            limited = ratelimit.check_key(ip=ip, raw_key=raw_key)
        if limited is not None:
            raise RateLimited(wait=limited.retry_after)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def handle_exception(self, exc: Exception) -> Response:
        request = self.request  # type: ignore[attr-defined]
        if isinstance(exc, exceptions.AuthenticationFailed) and request.headers.get("X-Api-Key"):
            ratelimit.record_failed_auth(ip=client_ip(request))
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response

    def get_exception_handler(self) -> Any:
        return exception_handler


class ApiView(ApiMixin, APIView):
    pass
