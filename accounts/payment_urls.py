from django.urls import path

from accounts.payments import views

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path(
        "<int:payment_id>/return/<str:outcome>/",
        views.payment_return,
        name="payment_return",
    ),
]
