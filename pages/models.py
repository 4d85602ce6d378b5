"""Pages staff write in the admin: Terms, FAQ, Contact/Support, linked from the footer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Page(models.Model):
    class Kind(models.TextChoices):
        TERMS = "terms", _("Terms of service")
        FAQ = "faq", _("FAQ")
        CONTACT = "contact", _("Contact and support")

    kind = models.CharField(_("page"), max_length=16, choices=Kind.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines start paragraphs."))
    # Russian visitors see these when filled in, the English text otherwise.
    title_ru = models.CharField(_("title (Russian)"), max_length=200, blank=True)
    body_ru = models.TextField(_("text (Russian)"), blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    def localized(self, language: str) -> tuple[str, str]:
        """(title, body) in `language` when written, else the English text."""
        if language.startswith("ru") and self.title_ru and self.body_ru:
            return self.title_ru, self.body_ru
        return self.title, self.body
