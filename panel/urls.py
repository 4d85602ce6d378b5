from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = f"{settings.PANEL_NAME} administration"
admin.site.site_title = settings.PANEL_NAME

urlpatterns = [
    path("admin/console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("orders.api.urls")),
    path("payments/", include("accounts.payment_urls")),
    path("support/", include("support.urls")),
    path("", include("referrals.urls")),
    path("", include("pages.urls")),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("orders.urls")),
]
