from django.urls import include, path

from orders.api.v2.views import endpoint

urlpatterns = [
    # Both spellings: reseller tools are configured with either, and a POST cannot be redirected.
    path("v2", endpoint, name="api-v2"),
    path("v2/", endpoint),
    path("v1/", include("orders.api.rest.urls")),
]
