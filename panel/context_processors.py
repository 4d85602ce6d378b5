from django.conf import settings
from django.http import HttpRequest


def panel(request: HttpRequest) -> dict[str, object]:
    return {"PANEL_NAME": settings.PANEL_NAME, "PANEL_CURRENCY": settings.PANEL_CURRENCY}
