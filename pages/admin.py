from django.contrib import admin
from django.core.cache import cache
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from pages.models import Page
from pages.selectors import FOOTER_CACHE_KEY


@admin.register(Page)
class PageAdmin(ModelAdmin):
    list_display = ["kind", "title", "is_published", "updated_at"]
    list_filter = ["is_published"]

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        super().save_model(request, obj, form, change)
        cache.delete(FOOTER_CACHE_KEY)  # the footer and sign-up see the edit at once

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        super().delete_model(request, obj)
        cache.delete(FOOTER_CACHE_KEY)
