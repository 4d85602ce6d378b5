from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from orders.api.rest import views

urlpatterns = [
    path("services/", views.ServiceList.as_view(), name="api-services"),
    path("services/<int:pk>/", views.ServiceDetail.as_view(), name="api-service"),
    path("orders/", views.OrderList.as_view(), name="api-orders"),
    path("orders/<int:pk>/", views.OrderDetail.as_view(), name="api-order"),
    path("orders/<int:pk>/refill/", views.OrderRefill.as_view(), name="api-order-refill"),
    path("orders/<int:pk>/cancel/", views.OrderCancel.as_view(), name="api-order-cancel"),
    path("refills/", views.RefillList.as_view(), name="api-refills"),
    path("refills/<int:pk>/", views.RefillDetail.as_view(), name="api-refill"),
    path("balance/", views.Balance.as_view(), name="api-balance"),
    path("transactions/", views.TransactionList.as_view(), name="api-transactions"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Anything else under /api/v1/ (a negative id, a typo) gets the JSON error body too.
    re_path(r"^.*$", views.not_found),
]
