"""The admin: staff only, audited balance changes, no privilege escalation, no provider key."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import LedgerEntry, User
from catalog.models import Provider
from tests.factories import ProviderFactory, UserFactory


def test_it_keeps_customers_out_of_the_admin(signed_in: Client, customer: User) -> None:
    for path in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{customer.pk}/funds/",
        "/admin/catalog/provider/",
    ):
        response = signed_in.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    response = signed_in.post(
        f"/admin/accounts/user/{customer.pk}/funds/", {"amount": "500", "reason": "gift"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00")


def test_it_requires_a_reason_to_adjust_funds(admin_client: Client, customer: User) -> None:
    response = admin_client.post(
        f"/admin/accounts/user/{customer.pk}/funds/", {"amount": "500", "reason": "   "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00")
    assert not LedgerEntry.objects.filter(user=customer, kind=LedgerEntry.Kind.ADJUSTMENT).exists()


def test_it_stops_staff_without_superuser_from_granting_themselves_more(
    client: Client, db: None
) -> None:
    staff = UserFactory(email="support@example.com", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(staff)
    page = client.get(f"/admin/accounts/user/{staff.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()
    response = client.post(
        f"/admin/accounts/user/{staff.pk}/change/",
        {
            "email": staff.email,
            "first_name": "",
            "last_name": "",
            "timezone": "UTC",
            "language": "",
            "role": User.Role.CUSTOMER,
            "discount_percent": "0",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": [p.pk for p in Permission.objects.all()],
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code in (200, 302)
    staff.refresh_from_db()
    assert not staff.is_superuser
    assert set(staff.user_permissions.values_list("codename", flat=True)) == {
        "view_user",
        "change_user",
    }


def test_it_never_shows_the_provider_api_key_in_the_admin(admin_client: Client) -> None:
    provider: Provider = ProviderFactory(api_key="sk-provider-secret-123")
    for path in (
        "/admin/catalog/provider/",
        f"/admin/catalog/provider/{provider.pk}/change/",
        f"/admin/catalog/provider/{provider.pk}/history/",
    ):
        body = admin_client.get(path).content.decode()
        assert "sk-provider-secret-123" not in body, path
        assert provider.api_key_encrypted not in body, path
