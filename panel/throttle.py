"""Per-user request limits for the customer pages that write or cost work on every request.

A fixed one-minute window counted in the cache (Redis in production). The reseller APIs have
their own limiter (orders.api.ratelimit) and logins, sign-ups and password resets are limited by
allauth (ACCOUNT_RATE_LIMITS); this covers the rest: placing orders from the web, the live quote
and search a page fires while the customer types, starting payments, rotating API keys.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60

View = Callable[..., HttpResponse]


def _limit(scope: str) -> int:
    limits: dict[str, int] = settings.WEB_RATE_LIMITS
    return int(limits[scope])


def hit(*, scope: str, user_id: int) -> int | None:
    """Count one request of `user_id` in `scope`; the seconds to wait when over the limit."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"web-rl:{scope}:{user_id}:{window}"
    try:
        # add() wins the race to create the counter; incr() handles everyone after.
        if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
            count = 1
        else:
            try:
                count = int(cache.incr(key))
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
                count = 1
    except Exception:
        # Why: with the cache (Redis) down, placing orders must keep working (the order row is
        # the outbox; the sweeper forwards it later). A limiter that cannot count lets it pass.
        logger.warning("Rate limit %s not counted: the cache is unreachable", scope, exc_info=True)
        return None
    if count > _limit(scope):
        return max(1, int((window + 1) * WINDOW_SECONDS - now))
    return None


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    message = gettext("Too many requests. Please wait a minute and try again.")
    if request.headers.get("HX-Request"):
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable[[View], View]:
    """Limit a signed-in customer's requests with one of `methods` to `WEB_RATE_LIMITS[scope]`
    a minute. Put it under @login_required (anonymous requests are not counted here)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and request.user.is_authenticated:
                retry_after = hit(scope=scope, user_id=request.user.pk)
                if retry_after is not None:
                    return too_many_requests(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
