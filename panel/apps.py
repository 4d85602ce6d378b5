from django.apps import AppConfig


class PanelConfig(AppConfig):
    """The project itself as an app: production checks, probes, metrics, operations commands."""

    name = "panel"
    verbose_name = "Upline"

    def ready(self) -> None:
        from panel import checks, logging_config

        checks.register()
        logging_config.connect_celery_signals()
