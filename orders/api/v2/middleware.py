"""Serve `/api/v2` straight from the top of the middleware stack.

The SMM API v2 endpoint authenticates by API key and answers JSON: it uses no session, cookie,
CSRF token, message, locale, timezone or staff check, yet every request paid for each of those
middlewares and the URL resolver (a third of the CPU of a `status` request). This middleware
sits right after Django's SecurityMiddleware, so the API's answers still get its headers (and
HTTPS redirect); it adds the X-Frame-Options the clickjacking middleware would, checks the Host
header like CommonMiddleware does, checks the idle database connection without a round trip
(``panel.liveness``), and hands the request to the endpoint. The endpoint rejects
NUL and unencodable text itself (``read_params``). Every other path goes down the full stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from orders.api.v2.views import endpoint
from panel.liveness import check_idle_connection

# Both spellings, like orders/api/urls.py: reseller tools are configured with either.
PATHS = frozenset({"/api/v2", "/api/v2/"})


class ApiV2Middleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.frame_options = str(getattr(settings, "X_FRAME_OPTIONS", "DENY")).upper()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in PATHS:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (a 400) for a Host outside ALLOWED_HOSTS
        check_idle_connection()  # instead of the SELECT 1 before the first query
        response = endpoint(request)
        response.setdefault("X-Frame-Options", self.frame_options)
        return response
