from django.urls import path

from orders import views

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/new/search/", views.service_search, name="order_service_search"),
    path("orders/new/service/", views.service_picker, name="order_service_picker"),
    path("orders/new/quote/", views.order_quote_view, name="order_quote"),
    path("orders/mass/", views.order_mass, name="order_mass"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/refill/", views.order_refill, name="order_refill"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
]
