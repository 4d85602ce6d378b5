"""One error body for every REST failure: `{"error": sentence, "code": slug, "fields": {...}}`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from orders.errors import OrderError


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error response."""

    error = serializers.CharField(help_text="A sentence saying what went wrong.")
    code = serializers.CharField(help_text="A stable machine-readable code.")
    api_error = serializers.CharField(
        required=False, help_text="The SMM API v2 sentence for the same refusal (order services)."
    )
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages, for invalid input.",
    )


class Refused(exceptions.APIException):
    """An order service refused the request; carries its sentence, v2 sentence and field."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"

    def __init__(self, error: OrderError) -> None:
        super().__init__(detail=error.message, code=self.default_code)
        self.api_error = error.api_error
        self.field = error.field


class RateLimited(exceptions.Throttled):
    default_detail = "Too many requests."


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [message for item in value for message in _messages(item)]
    if isinstance(value, dict):
        return [message for item in value.values() for message in _messages(item)]
    return [str(value)]


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            fields = {str(name): _messages(value) for name, value in detail.items()}
            return {"error": "Invalid input.", "code": "invalid", "fields": fields}
        messages = _messages(detail)
        return {"error": messages[0] if messages else "Invalid input.", "code": "invalid"}
    codes = exc.get_codes()
    body: dict[str, Any] = {
        "error": " ".join(_messages(detail)),
        "code": codes if isinstance(codes, str) else exc.default_code,
    }
    if isinstance(exc, Refused):
        body["api_error"] = exc.api_error
        if exc.field:
            body["fields"] = {exc.field: [str(detail)]}
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OrderError):
        exc = Refused(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django answer 500 and log it
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
    return response
