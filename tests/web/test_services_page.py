"""The services page's search, feature filters, badges and average time; the Updates page; the
money display rule and the plural forms customers read."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from accounts.models import User
from catalog.models import Provider, Service, ServiceUpdate
from tests.factories import CategoryFactory, ServiceFactory
from tests.web.conftest import make_order

pytestmark = pytest.mark.django_db


def render(source: str, **context: object) -> str:
    return Template("{% load upline %}" + source).render(Context(context))


def rows(client: Client, **params: object) -> list[int]:
    return [service.pk for service in client.get("/services/", params).context["rows"]]


def test_it_finds_services_by_all_words_in_any_order(
    client: Client, provider: Provider, service: Service
) -> None:
    likes = ServiceFactory(
        provider=provider, category=CategoryFactory(name="Likes"), name="Real Likes HQ"
    )

    assert rows(client, q="hq followers") == [service.pk]  # name, words swapped
    assert rows(client, q="followers instagram") == [service.pk]  # name + category
    assert rows(client, q="hq") == [service.pk, likes.pk]
    assert rows(client, q=f"#{likes.pk}") == [likes.pk]
    assert rows(client, q="hq tiktok") == []


def test_it_filters_by_feature_and_shows_the_badges(
    client: Client, service: Service, dripfeed_service: Service
) -> None:
    assert rows(client, feature="dripfeed") == [dripfeed_service.pk]
    assert rows(client, feature=["refill", "cancel"]) == [service.pk]
    assert rows(client, feature="nonsense") == [service.pk, dripfeed_service.pk]
    page = client.get("/services/").content.decode()
    assert 'data-feature="refill">Refill 30 days<' in page
    assert 'data-feature="cancel">' in page
    assert 'data-feature="dripfeed">' in page
    assert "Real-looking followers." in page  # the description


def test_it_shows_the_measured_average_time_before_the_staff_text(
    client: Client, service: Service, dripfeed_service: Service
) -> None:
    Service.objects.filter(pk=service.pk).update(completion_seconds_per_1000=5400)

    page = client.get("/services/").content.decode()

    assert "1 hour 30 minutes per 1000" in page
    assert "Not known" in page  # the drip-feed service: no orders, no staff text
    with translation.override("ru"):
        service.refresh_from_db()
        assert render("{{ s|average_time }}", s=service) == "1 час 30 минут на 1000"


def test_the_updates_page_lists_changes_of_services_for_sale(
    client: Client, provider: Provider, service: Service
) -> None:
    hidden = ServiceFactory(provider=provider, category=CategoryFactory(is_visible=False))
    now = timezone.now()
    ServiceUpdate.objects.create(
        service=service,
        kind="rate_down",
        old_rate=Decimal("2"),
        new_rate=Decimal("1.3"),
        created_at=now,
    )
    ServiceUpdate.objects.create(service=hidden, kind="added", created_at=now)

    response = client.get("/updates/")

    assert [u.service_id for u in response.context["updates"]] == [service.pk]
    assert "$2.00 → $1.30" in response.content.decode()
    assert "Rate decreased" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "shown", "exact"),
    [
        ("37.26806", "$37.27", "$37.26806"),
        ("1.30000", "$1.30", None),
        ("0.00125", "$0.00125", None),
        ("0.005", "$0.005", None),
        ("-2.50000", "−$2.50", None),
        ("1234.5", "$1,234.50", None),
    ],
)
def test_money_reads_two_decimals_with_the_exact_value_in_a_tooltip(
    value: str, shown: str, exact: str | None
) -> None:
    html = render("{{ v|money }}", v=Decimal(value))
    if exact is None:
        assert html == shown
    else:
        assert html == f'<span class="money" title="{exact}">{shown}</span>'


def test_money_follows_russian_conventions() -> None:
    with translation.override("ru"):
        assert render("{{ v|money }}", v=Decimal("37.26806")) == (
            '<span class="money" title="37,26806\xa0$">37,27\xa0$</span>'
        )


def test_a_drip_feed_row_shows_per_run_quantity_runs_and_total(
    client: Client, customer: User, dripfeed_service: Service
) -> None:
    make_order(customer, dripfeed_service, quantity=100, runs=3, interval=10, remains=300)
    client.force_login(customer)

    page = client.get("/orders/").content.decode()

    assert ">100 × 3 runs<" in page
    assert "300 in total" in page
    russian = client.get("/orders/", headers={"accept-language": "ru"}).content.decode()
    assert ">100 × 3 запуска<" in russian
    assert "всего 300" in russian


def test_the_api_page_does_not_put_a_full_stop_after_a_time(client: Client, customer: User) -> None:
    client.post("/api-access/rotate/")  # not signed in: refused
    client.force_login(customer)
    client.post("/api-access/rotate/")

    page = client.get("/api-access/").content.decode()

    assert "m.." not in page
    assert "Created:" in page


def test_the_line_counter_carries_every_russian_plural_form() -> None:
    with translation.override("ru"):
        html = render('{% include "_lines_label.html" %}')

    # panel.js picks one by Intl.PluralRules("ru") for the live count; 0 lines reads "строк".
    assert 'data-plural-one="строка"' in html
    assert 'data-plural-few="строки"' in html
    assert 'data-plural-many="строк"' in html
    assert html.endswith(">строк</span>\n") or html.rstrip().endswith(">строк</span>")
