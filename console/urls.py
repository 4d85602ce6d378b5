from django.contrib import admin
from django.urls import path

from console import views

app_name = "console"

# Inside the admin: admin_view() requires an active staff login (and the MFA middleware
# applies as on every admin page); each view then checks its own permission.
urlpatterns = [
    path("queues/<slug:name>/", admin.site.admin_view(views.queue_view), name="queue"),
    path("orders/<int:order_id>/act/", admin.site.admin_view(views.order_action), name="order_act"),
    path(
        "refills/<int:refill_id>/act/",
        admin.site.admin_view(views.refill_action),
        name="refill_act",
    ),
    path(
        "providers/<int:provider_id>/act/",
        admin.site.admin_view(views.provider_action),
        name="provider_act",
    ),
    path("markup/", admin.site.admin_view(views.bulk_markup_view), name="markup"),
]
