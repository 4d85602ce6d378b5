from __future__ import annotations

from django import template

from pages.selectors import published_kinds

register = template.Library()


@register.simple_tag
def footer_pages() -> list[str]:
    """The kinds of the published pages, in footer order."""
    return published_kinds()
