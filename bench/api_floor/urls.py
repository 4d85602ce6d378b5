from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User


@csrf_exempt
def floor(request: HttpRequest) -> JsonResponse:
    """One indexed SELECT (a primary-key lookup) and a small JSON answer."""
    row = User.objects.filter(pk=int(request.GET.get("id", "1"))).values_list("balance").first()
    return JsonResponse({"balance": str(row[0]) if row else None})


urlpatterns = [
    path("bench/floor", floor),
    path("", include("panel.urls")),
]
