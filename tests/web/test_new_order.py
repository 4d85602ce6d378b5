"""The new-order page: picker, search, live quote, placement with inline errors."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LedgerEntry, User
from catalog.models import Category, Provider, Service
from orders.models import Order
from tests.factories import CategoryFactory, ServiceFactory

LINK = "https://instagram.com/example"


@pytest.fixture
def signed_in(client: Client, customer: User) -> Client:
    client.force_login(customer)
    return client


def test_it_shows_the_fields_a_default_service_needs(signed_in: Client, service: Service) -> None:
    response = signed_in.get(reverse("order_new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="link"' in body
    assert 'name="quantity"' in body
    assert 'name="runs"' not in body  # no drip-feed on this service
    assert "Real-looking followers." in body
    assert "2 hours" in body


def test_it_adds_runs_and_interval_for_drip_feed(
    signed_in: Client, dripfeed_service: Service
) -> None:
    body = signed_in.get(f"{reverse('order_new')}?service={dripfeed_service.pk}").content.decode()
    assert 'name="runs"' in body
    assert 'name="interval"' in body


def test_it_shows_a_comments_box_with_a_line_count(
    signed_in: Client, provider: Provider, category: Category
) -> None:
    comments = ServiceFactory(provider=provider, category=category, type="Custom Comments")
    body = signed_in.get(f"{reverse('order_new')}?service={comments.pk}").content.decode()
    assert 'data-count-lines="count_comments"' in body
    assert 'name="quantity"' not in body


def test_it_shows_subscription_fields(
    signed_in: Client, provider: Provider, category: Category
) -> None:
    subscription = ServiceFactory(provider=provider, category=category, type="Subscriptions")
    body = signed_in.get(f"{reverse('order_new')}?service={subscription.pk}").content.decode()
    for name in ("username", "min", "max", "posts", "old_posts", "delay", "expiry"):
        assert f'name="{name}"' in body
    assert 'name="link"' not in body


def test_it_places_an_order_and_confirms_the_new_balance(
    signed_in: Client, customer: User, service: Service, django_capture_on_commit_callbacks: object
) -> None:
    response = signed_in.post(
        reverse("order_new"),
        {
            "category": service.category_id,
            "service": service.pk,
            "link": LINK,
            "quantity": "1000",
            "idempotency_key": "k1",
        },
    )
    order = Order.objects.get(user=customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("order_detail", args=[order.pk]) + "?placed=1"
    assert (order.link, order.quantity, order.charge, order.source) == (
        LINK,
        1000,
        Decimal("1.30000"),
        Order.Source.WEB,
    )
    customer.refresh_from_db()
    assert customer.balance == Decimal("98.70000")
    confirmation = signed_in.get(response["Location"]).content.decode()
    assert f"Order #{order.pk} placed" in confirmation
    assert "$98.70" in confirmation


def test_it_charges_a_double_submit_once(
    signed_in: Client, customer: User, service: Service
) -> None:
    data = {
        "service": service.pk,
        "link": LINK,
        "quantity": "1000",
        "idempotency_key": "same-form",
    }
    first = signed_in.post(reverse("order_new"), data)
    second = signed_in.post(reverse("order_new"), data)
    assert first["Location"] == second["Location"]
    assert Order.objects.filter(user=customer).count() == 1
    assert LedgerEntry.objects.filter(user=customer, kind="order_charge").count() == 1


def test_it_shows_a_quantity_error_on_the_quantity_field(
    signed_in: Client, customer: User, service: Service
) -> None:
    response = signed_in.post(
        reverse("order_new"),
        {"service": service.pk, "link": LINK, "quantity": "5", "idempotency_key": "k2"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"quantity": ["The quantity must be at least 10."]}
    assert not Order.objects.filter(user=customer).exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_it_shows_a_bad_link_on_the_link_field(signed_in: Client, service: Service) -> None:
    response = signed_in.post(
        reverse("order_new"),
        {"service": service.pk, "link": "not a link", "quantity": "100", "idempotency_key": "k3"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["link"]


def test_it_says_when_the_balance_is_too_low(
    signed_in: Client, customer: User, service: Service
) -> None:
    service.rate = Decimal("50000")
    service.save()
    response = signed_in.post(
        reverse("order_new"),
        {"service": service.pk, "link": LINK, "quantity": "1000", "idempotency_key": "k4"},
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Your balance is too low for this order."
    ]
    customer.refresh_from_db()
    assert customer.balance == Decimal("100.00000")


def test_it_refuses_a_disabled_service(signed_in: Client, service: Service) -> None:
    service.is_enabled = False
    service.save()
    response = signed_in.post(
        reverse("order_new"),
        {"service": service.pk, "link": LINK, "quantity": "100", "idempotency_key": "k5"},
    )
    assert response.status_code == 400
    assert "does not exist or is not available" in response.content.decode()
    assert not Order.objects.exists()


def test_it_quotes_the_price_live(signed_in: Client, service: Service) -> None:
    response = signed_in.post(
        reverse("order_quote"), {"service": service.pk, "link": LINK, "quantity": "2000"}
    )
    assert response.status_code == 200
    assert response.context["charge"] == Decimal("2.60000")
    body = response.content.decode()
    assert "$2.60" in body
    assert "$97.40" in body  # balance after the order


def test_it_waits_for_missing_fields_before_complaining(
    signed_in: Client, service: Service
) -> None:
    response = signed_in.post(reverse("order_quote"), {"service": service.pk, "quantity": "100"})
    assert response.context["incomplete"] is True
    assert "Fill in the form" in response.content.decode()


def test_it_puts_a_quote_error_next_to_its_field(signed_in: Client, service: Service) -> None:
    response = signed_in.post(
        reverse("order_quote"), {"service": service.pk, "link": LINK, "quantity": "999999"}
    )
    assert response.context["field_errors"] == [
        ("link", ""),
        ("quantity", "The quantity must be at most 10000."),
    ]
    assert 'id="err_quantity" aria-live="polite" hx-swap-oob="true"' in response.content.decode()


def test_it_searches_services_on_the_server(
    signed_in: Client, provider: Provider, service: Service
) -> None:
    other = CategoryFactory(name="TikTok")
    ServiceFactory(provider=provider, category=other, name="TikTok Views")
    response = signed_in.get(reverse("order_service_search"), {"q": "tiktok"})
    assert [s.name for s in response.context["results"]] == ["TikTok Views"]
    by_id = signed_in.get(reverse("order_service_search"), {"q": str(service.pk)})
    assert service in by_id.context["results"]


def test_it_loads_a_categorys_services(
    signed_in: Client, provider: Provider, service: Service
) -> None:
    other = CategoryFactory(name="TikTok", sort_order=5)
    tiktok = ServiceFactory(provider=provider, category=other, name="TikTok Views")
    response = signed_in.get(
        reverse("order_service_picker"),
        {"category": other.pk, "service": service.pk, "changed": "category"},
    )
    picker = response.context["picker"]
    assert (picker.category, picker.services, picker.service) == (other, [tiktok], tiktok)


def test_it_treats_garbage_ids_as_absent(signed_in: Client, service: Service) -> None:
    response = signed_in.get(reverse("order_service_picker"), {"service": "x'1", "category": "-1"})
    assert response.status_code == 200
    assert response.context["picker"].service == service
