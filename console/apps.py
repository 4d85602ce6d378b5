from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The operator's console: dashboard and daily rollup, work queues, audit log, alerts."""

    name = "console"
    verbose_name = _("Console")
    default_auto_field = "django.db.models.BigAutoField"
