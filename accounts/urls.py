from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("funds/", views.add_funds, name="add_funds"),
    path("transactions/", views.transactions, name="transactions"),
    path("api-access/", views.api_page, name="api_page"),
    path("api-access/rotate/", views.api_key_rotate_view, name="api_key_rotate"),
    path("api-access/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("account/", views.profile, name="profile"),
    path("language/", views.language_set, name="language_set"),
]
