"""Only the reseller APIs, mounted where panel.urls mounts them: these tests do not depend on
the customer pages' URL modules."""

from django.urls import include, path

urlpatterns = [path("api/", include("orders.api.urls"))]
