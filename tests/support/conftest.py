from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import Order
from tests.factories import ServiceFactory


def make_order(user: User, *, status: str = Order.Status.COMPLETED, upstream: str = "") -> Order:
    """An order as it stands after placement and forwarding (no provider involved)."""
    service = ServiceFactory(refill=True, cancel=True)
    return Order.objects.create(
        user=user,
        service=service,
        provider=service.provider,
        upstream_service_id=service.upstream_id,
        type=service.type,
        link="https://instagram.com/someone",
        quantity=100,
        rate=Decimal("1.30000"),
        charge=Decimal("0.13000"),
        status=status,
        upstream_order_id=upstream,
        finished_at=timezone.now() if status == Order.Status.COMPLETED else None,
    )


@pytest.fixture
def completed_order(customer: User) -> Order:
    return make_order(customer, upstream="77001")


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser(email="staff@example.com", password="pw")
