from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import LedgerEntry, Payment, User
from catalog.models import Service
from orders.models import Order, Refill
from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory
from tests.web.conftest import make_order


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(
        provider=ProviderFactory(),
        category=CategoryFactory(name="Instagram Followers"),
        name="Instagram Followers HQ",
        refill=True,
        cancel=True,
    )


@pytest.fixture
def signed_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


@pytest.fixture
def theirs(other_user: User, service: Service) -> dict[str, object]:
    """Another customer's order, refill, payment and ledger entry: never visible to `customer`."""
    order = make_order(
        other_user, service, status=Order.Status.COMPLETED, link="https://instagram.com/secret"
    )
    refill = Refill.objects.create(order=order, status=Refill.Status.PENDING)
    payment = Payment.objects.create(
        user=other_user, gateway="stripe", amount=Decimal("25.00"), currency="USD"
    )
    entry = LedgerEntry.objects.filter(user=other_user).first()
    return {"order": order, "refill": refill, "payment": payment, "entry": entry}
