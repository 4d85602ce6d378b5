"""Project-wide request hygiene and response headers that Django's SecurityMiddleware lacks.

* NUL characters in a page's query string or form are refused with a 400: PostgreSQL cannot
  store or even compare them in text, so one `?q=%00` used to end in a 500 on any page that
  searches. The reseller APIs (`/api/`) parse their own input and answer in their own format.
* A Content-Security-Policy on HTML pages: scripts only from our origin, so a markup injection
  that slips past autoescaping still cannot run script. Style attributes stay allowed (the
  templates use a few); htmx needs no `eval` as long as no `hx-on` / trigger filters are used.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict

NUL = "\x00"
NUL_MESSAGE = "The request contains a NUL character, which is not allowed."
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _has_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in data.getlist(key)) for key in data)


class RejectNulCharactersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return self.get_response(request)
        form_post = request.method == "POST" and request.content_type in FORM_TYPES
        if _has_nul(request.GET) or (form_post and _has_nul(request.POST)):
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Adds `settings.CONTENT_SECURITY_POLICY` to HTML responses (an empty policy disables it).

    Paths in `settings.CONTENT_SECURITY_POLICY_EXEMPT` (prefixes) are left alone: the
    third-party API documentation pages run inline script. `CONTENT_SECURITY_POLICY_BY_PATH`
    maps a path prefix to the policy used there instead (the admin theme's Alpine.js).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy: str = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        self.exempt: tuple[str, ...] = tuple(
            getattr(settings, "CONTENT_SECURITY_POLICY_EXEMPT", ())
        )
        self.by_path: dict[str, str] = dict(
            getattr(settings, "CONTENT_SECURITY_POLICY_BY_PATH", {})
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            self.policy
            and "Content-Security-Policy" not in response
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path.startswith(self.exempt)
        ):
            policy = next(
                (
                    value
                    for prefix, value in self.by_path.items()
                    if request.path.startswith(prefix)
                ),
                self.policy,
            )
            response["Content-Security-Policy"] = policy
        return response
