from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from pages.models import Page


def page_view(request: HttpRequest, kind: str) -> HttpResponse:
    page = Page.objects.filter(kind=kind, is_published=True).first()
    if page is None:
        raise Http404
    title, body = page.localized(get_language() or "en")
    return render(request, "pages/page.html", {"page": page, "title": title, "body": body})
