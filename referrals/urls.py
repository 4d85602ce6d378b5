from django.urls import path

from referrals import views

urlpatterns = [
    path("r/<str:code>/", views.referral_link, name="referral_link"),
    path("referrals/", views.referrals_page, name="referrals"),
]
