"""The `/api/v2` endpoint: rate limits, key, action, canonical answer. Nothing else."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import client_ip
from accounts.services import api_key_authenticate
from orders.api import ratelimit
from orders.api.v2.actions import ACTIONS
from orders.api.v2.params import ApiError, read_params
from orders.errors import OrderError
from panel.smmapi.protocol import Error


def answer(payload: Any, *, status: int = 200) -> JsonResponse:
    # Compact, like the PHP panels the ecosystem was written against.
    return JsonResponse(
        payload, status=status, safe=False, json_dumps_params={"separators": (",", ":")}
    )


def too_many(limited: ratelimit.Limited) -> JsonResponse:
    # 429, not the usual 200: the request surely did nothing, and every HTTP client and our own
    # provider client read a 4xx with an error as "rejected, try later" rather than a verdict.
    response = answer({"error": limited.message}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


def too_many_or(ip: str | None, response: JsonResponse) -> JsonResponse:
    """`response`, unless this keyless or unreadable request puts its IP over the limit."""
    limited = ratelimit.check_ip(ip=ip)
    return too_many(limited) if limited else response


@csrf_exempt  # Authenticated by the API key, never by a cookie.
def endpoint(request: HttpRequest) -> JsonResponse:
    ip = client_ip(request)
    # Reading the fields first (bounded by DATA_UPLOAD_MAX_MEMORY_SIZE, no database) lets the
    # IP and key limits share one cache round trip, still before any query.
    try:
        params = read_params(request)
    except ApiError as exc:
        return too_many_or(ip, answer({"error": exc.sentence}))
    raw_key = (params.get("key") or request.headers.get("X-Api-Key") or "").strip()
    if not raw_key:
        return too_many_or(ip, answer({"error": Error.INVALID_KEY}))
    limited = ratelimit.check_request(ip=ip, raw_key=raw_key)
    if limited:
        return too_many(limited)
    user = api_key_authenticate(raw_key=raw_key, ip=ip)
    if user is None:
        ratelimit.record_failed_auth(ip=ip)
        return answer({"error": Error.INVALID_KEY})
    handler = ACTIONS.get(params.get("action", "").strip().lower())
    if handler is None:
        return answer({"error": Error.INCORRECT_ACTION})
    try:
        return answer(handler(user, params))
    except ApiError as exc:
        return answer({"error": exc.sentence})
    except OrderError as exc:
        return answer({"error": exc.api_error})
