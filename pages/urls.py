from django.urls import path

from pages import views

urlpatterns = [
    path("terms/", views.page_view, {"kind": "terms"}, name="page_terms"),
    path("faq/", views.page_view, {"kind": "faq"}, name="page_faq"),
    path("contact/", views.page_view, {"kind": "contact"}, name="page_contact"),
]
