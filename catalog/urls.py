from django.urls import path

from catalog import views

urlpatterns = [
    path("services/", views.price_list, name="price_list"),
    path("updates/", views.catalogue_updates_page, name="catalogue_updates"),
]
