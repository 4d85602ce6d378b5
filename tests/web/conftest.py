import pytest

from catalog.models import Category, Provider, Service
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
