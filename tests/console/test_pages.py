from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.console.seed import Seed


def test_it_renders_the_dashboard_from_the_rollup(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Revenue, provider cost and profit per day" in body
    assert 'data-type="line"' in body


def test_it_renders_every_queue(client: Client, staff_admin: User, seed: Seed) -> None:
    client.force_login(staff_admin)
    for name in ("review", "held", "failed", "refills", "paused"):
        response = client.get(reverse("console:queue", args=[name]))
        assert response.status_code == 200, name
