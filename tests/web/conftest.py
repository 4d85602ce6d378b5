from decimal import Decimal

import pytest

from accounts.models import User
from catalog.models import Category, Provider, Service
from orders.models import Order
from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory


@pytest.fixture
def provider(db: None) -> Provider:
    return ProviderFactory()


@pytest.fixture
def category(db: None) -> Category:
    return CategoryFactory(name="Instagram Followers")


@pytest.fixture
def service(provider: Provider, category: Category) -> Service:
    return ServiceFactory(
        provider=provider,
        category=category,
        name="Instagram Followers HQ",
        description="Real-looking followers.",
        average_time="2 hours",
        min_quantity=10,
        max_quantity=10000,
        refill=True,
        cancel=True,
    )


@pytest.fixture
def dripfeed_service(provider: Provider, category: Category) -> Service:
    return ServiceFactory(
        provider=provider, category=category, name="Instagram Likes drip", dripfeed=True
    )


def make_order(user: User, service: Service, **fields: object) -> Order:
    """An order row in a given state, as forwarding and status sync would leave it."""
    values: dict[str, object] = {
        "user": user,
        "service": service,
        "provider": service.provider,
        "upstream_service_id": service.upstream_id,
        "type": service.type,
        "link": "https://instagram.com/example",
        "quantity": 100,
        "rate": Decimal("1.30000"),
        "charge": Decimal("0.13000"),
        "status": Order.Status.QUEUED,
    }
    values.update(fields)
    return Order.objects.create(**values)
