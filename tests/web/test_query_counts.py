"""Pages cost a fixed number of queries, however many orders or services they show."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from catalog.models import Category, Provider, Service, UserRate
from orders.models import Order, Refill
from tests.conftest import fund
from tests.factories import ServiceFactory
from tests.web.conftest import make_order


def count_queries(client: Client, url: str) -> int:
    cache.clear()  # compare cold pages: cached lists would hide a query the first time
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def add_orders(user: User, service: Service, n: int) -> None:
    start = Order.objects.count()
    for i in range(start, start + n):
        order = make_order(
            user,
            service,
            status=Order.Status.COMPLETED if i % 2 else Order.Status.IN_PROGRESS,
            upstream_order_id=str(1000 + i),
            finished_at=timezone.now(),
        )
        if i % 3 == 0:
            Refill.objects.create(order=order)
        fund(user, "1.00")


def add_services(provider: Provider, category: Category, n: int) -> None:
    for _ in range(n):
        ServiceFactory(provider=provider, category=category)


@pytest.mark.parametrize("url_name", ["order_list", "dashboard", "transactions"])
def test_it_reads_orders_in_constant_queries(
    client: Client, customer: User, service: Service, url_name: str
) -> None:
    client.force_login(customer)
    url = reverse(url_name)
    add_orders(customer, service, 3)
    small = count_queries(client, url)
    add_orders(customer, service, 22)
    assert count_queries(client, url) == small


@pytest.mark.parametrize(
    "url",
    [
        lambda s: reverse("price_list"),
        lambda s: reverse("order_new"),
        lambda s: f"{reverse('order_service_search')}?q=Instagram",
        lambda s: f"{reverse('order_service_picker')}?category={s.category_id}",
    ],
    ids=["price_list", "order_new", "search", "picker"],
)
def test_it_reads_services_in_constant_queries(
    client: Client,
    customer: User,
    service: Service,
    url: Callable[[Service], str],
) -> None:
    client.force_login(customer)
    add_services(service.provider, service.category, 3)
    small = count_queries(client, url(service))
    add_services(service.provider, service.category, 40)
    assert count_queries(client, url(service)) == small


def test_it_prices_a_resellers_list_in_constant_queries(
    client: Client, reseller: User, service: Service
) -> None:
    reseller.discount_percent = 10
    reseller.save()
    client.force_login(reseller)
    UserRate.objects.create(user=reseller, service=service, rate="1.10")
    add_services(service.provider, service.category, 3)
    small = count_queries(client, reverse("price_list"))
    add_services(service.provider, service.category, 40)
    assert count_queries(client, reverse("price_list")) == small
