from django.urls import path

from accounts.payments import views

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("nowpayments/ipn/", views.nowpayments_ipn, name="nowpayments_ipn"),
    path("paypal/webhook/", views.paypal_webhook, name="paypal_webhook"),
    path("manual/<int:method_id>/", views.manual_payment, name="manual_payment"),
    path("<int:payment_id>/receipt/", views.payment_receipt, name="payment_receipt"),
    path(
        "<int:payment_id>/return/<str:outcome>/",
        views.payment_return,
        name="payment_return",
    ),
]
