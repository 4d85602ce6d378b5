import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from catalog.models import Provider, Service, ServiceUpdate
from catalog.services import provider_sync_catalogue
from catalog.services.completion import services_refresh_completion_times
from catalog.tasks import refresh_completion_times
from orders.models import Order
from simulator import Simulator
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def sync(provider: Provider) -> None:
    assert provider_sync_catalogue(provider_id=provider.pk).status == "ok"


def by_upstream(provider: Provider, upstream_id: int) -> Service:
    return Service.objects.get(provider=provider, upstream_id=str(upstream_id))


def kinds(provider: Provider) -> set[tuple[str, str]]:
    return set(
        ServiceUpdate.objects.filter(service__provider=provider).values_list(
            "service__upstream_id", "kind"
        )
    )


def test_it_records_what_customers_see_change_on_each_sync(
    provider: Provider, sim: Simulator
) -> None:
    sync(provider)
    assert not ServiceUpdate.objects.exists()  # the first import is not news
    old_rate_2 = by_upstream(provider, 2).rate
    old_rate_3 = by_upstream(provider, 3).rate
    removed = sim.state.service(6)
    sim.state.update_service(2, rate=str(sim.state.service(2).rate * 2))
    sim.state.update_service(3, rate=str(sim.state.service(3).rate / 2))
    sim.state.remove_service(6)
    sim.state.add_service(name="Brand new", category="New Category", rate="0.50", id=900)

    sync(provider)

    assert kinds(provider) == {
        ("2", "rate_up"),
        ("3", "rate_down"),
        ("6", "removed"),
        ("900", "added"),
    }
    up = ServiceUpdate.objects.get(kind="rate_up")
    assert (up.old_rate, up.new_rate) == (old_rate_2, by_upstream(provider, 2).rate)
    down = ServiceUpdate.objects.get(kind="rate_down")
    assert (down.old_rate, down.new_rate) == (old_rate_3, by_upstream(provider, 3).rate)

    sim.state.add_service(**{**removed.__dict__, "type": removed.type})
    sync(provider)
    assert ServiceUpdate.objects.filter(kind="restored", service=by_upstream(provider, 6)).exists()
    sync(provider)  # nothing changed: nothing new
    assert ServiceUpdate.objects.count() == 5


def completed(service: Service, user: User, *, minutes: float, quantity: int = 1000) -> Order:
    order = Order.objects.create(
        user=user,
        service=service,
        provider=service.provider,
        upstream_service_id=service.upstream_id,
        type=service.type,
        link="https://instagram.com/x",
        quantity=quantity,
        rate=service.rate,
        charge=Decimal("1"),
        status=Order.Status.COMPLETED,
    )
    placed = timezone.now() - dt.timedelta(days=1)
    Order.objects.filter(pk=order.pk).update(
        created_at=placed, finished_at=placed + dt.timedelta(minutes=minutes)
    )
    return order


def test_it_measures_the_median_of_the_last_ten_completed_orders_per_1000() -> None:
    service = ServiceFactory()
    user = UserFactory()
    # Older orders, pushed out of the last ten by the newer ones below.
    for _ in range(5):
        completed(service, user, minutes=600)
    Order.objects.update(finished_at=timezone.now() - dt.timedelta(days=30))
    # Ten recent: 500 units in 30 min (60 min per 1000), the rest 1000 units in 60–90 min.
    completed(service, user, minutes=30, quantity=500)
    for minutes in (60, 60, 61, 62, 63, 64, 65, 80, 90):
        completed(service, user, minutes=minutes)
    # A drip-feed order and an unfinished one do not count.
    drip = completed(service, user, minutes=5)
    Order.objects.filter(pk=drip.pk).update(runs=3, interval=10)
    Order.objects.create(
        user=user,
        service=service,
        provider=service.provider,
        upstream_service_id="1",
        type="Default",
        quantity=1000,
        rate=1,
        charge=1,
        status=Order.Status.IN_PROGRESS,
    )

    assert services_refresh_completion_times() == 1

    service.refresh_from_db()
    assert service.completion_seconds_per_1000 == round(62.5 * 60)
    assert services_refresh_completion_times() == 0  # unchanged: nothing written


def test_it_keeps_not_known_below_three_orders_and_forgets_stale_figures() -> None:
    service = ServiceFactory(completion_seconds_per_1000=999)
    user = UserFactory()
    completed(service, user, minutes=10)
    completed(service, user, minutes=10)

    refresh_completion_times()

    service.refresh_from_db()
    assert service.completion_seconds_per_1000 is None
