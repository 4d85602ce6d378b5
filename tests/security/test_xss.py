"""Markup from providers (service names and descriptions), customers (links, names, searches) and
upstream errors is shown as text on customer pages and in the admin, never run."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from catalog.models import CatalogAlert, Service
from orders.models import Order
from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory
from tests.web.conftest import make_order

SCRIPT = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + IMG


def assert_inert(body: str, where: str) -> None:
    assert "<script>alert" not in body, where
    assert "<img src=x" not in body, where


@pytest.fixture
def evil_service(db: None) -> Service:
    # What a malicious provider can send in its `services` answer.
    return ServiceFactory(
        provider=ProviderFactory(name="Evil" + PAYLOAD, last_error=PAYLOAD),
        category=CategoryFactory(name="Cat" + PAYLOAD),
        upstream_name=PAYLOAD,
        name="Svc" + PAYLOAD,
        description="Desc" + PAYLOAD,
        average_time=PAYLOAD,
        refill=True,
        cancel=True,
    )


def test_it_shows_provider_and_customer_markup_as_text_on_customer_pages(
    client: Client, customer: User, evil_service: Service
) -> None:
    User.objects.filter(pk=customer.pk).update(first_name=PAYLOAD, last_name=PAYLOAD)
    order = make_order(
        customer,
        evil_service,
        link="https://x.com/" + PAYLOAD,
        status=Order.Status.COMPLETED,
        last_error=PAYLOAD,
    )
    client.force_login(customer)
    pages = [
        "/",
        "/orders/",
        f"/orders/?q={IMG}&status={SCRIPT}",
        f"/orders/{order.pk}/",
        f"/orders/new/?service={evil_service.pk}",
        f"/orders/new/service/?service={evil_service.pk}",
        "/orders/new/search/?q=Svc",
        f"/orders/new/search/?q={IMG}",
        "/services/",
        f"/services/?q={IMG}",
        "/account/",
        "/transactions/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)
    mass = client.post("/orders/mass/", {"orders": f"{evil_service.pk} | {PAYLOAD} | {IMG}"})
    assert_inert(mass.content.decode(), "mass order")
    quote = client.post(
        "/orders/new/quote/", {"service": evil_service.pk, "link": PAYLOAD, "quantity": IMG}
    )
    assert_inert(quote.content.decode(), "quote")
    assert "Svc&lt;script&gt;" in client.get("/services/").content.decode()


def test_it_shows_provider_markup_as_text_in_the_admin(
    admin_client: Client, customer: User, evil_service: Service
) -> None:
    order = make_order(customer, evil_service, link=PAYLOAD, status=Order.Status.NEEDS_REVIEW)
    CatalogAlert.objects.create(
        kind=CatalogAlert.Kind.values[0], provider=evil_service.provider, message=PAYLOAD
    )
    for path in (
        "/admin/catalog/service/",
        f"/admin/catalog/service/{evil_service.pk}/change/",
        "/admin/catalog/provider/",
        f"/admin/catalog/provider/{evil_service.provider_id}/change/",
        "/admin/catalog/category/",
        "/admin/catalog/catalogalert/",
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)
