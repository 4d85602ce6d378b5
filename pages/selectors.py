"""Reads of the site pages."""

from __future__ import annotations

from django.core.cache import cache

from pages.models import Page

# The footer shows on every page: its links are cached briefly (an edit shows within a minute).
FOOTER_CACHE_KEY = "pages:published-kinds"
FOOTER_CACHE_SECONDS = 60

FOOTER_ORDER = [Page.Kind.FAQ, Page.Kind.TERMS, Page.Kind.CONTACT]


def published_kinds() -> list[str]:
    kinds = cache.get(FOOTER_CACHE_KEY)
    if kinds is None:
        kinds = list(Page.objects.filter(is_published=True).values_list("kind", flat=True))
        cache.set(FOOTER_CACHE_KEY, kinds, FOOTER_CACHE_SECONDS)
    return [kind for kind in FOOTER_ORDER if kind in kinds]


def terms_published() -> bool:
    """Whether sign-up asks to accept the terms: a published Terms page exists."""
    return Page.Kind.TERMS in published_kinds()
