import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import LedgerEntry, User
from catalog.models import Service
from console.models import AuditEntry
from orders.models import Order, Refill
from tests.console.seed import Seed
from tests.factories import UserFactory


def staff_with(*codenames: str) -> User:
    user = UserFactory(is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=code)
        )
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def test_it_shows_the_dashboard_numbers_from_the_rollup(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    response = client.get(reverse("admin:index"), {"days": "90"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 90
    assert (
        sum(row.orders for row in rows)
        == Order.objects.filter(status__in=["completed", "partial", "canceled", "failed"]).count()
    )
    counters = {str(label): count for label, count, _url in response.context["counters"]}
    assert counters == {
        "Needs review": 1,
        "Held: impossible numbers": 1,
        "Failed (24 h)": 1,
        "Providers paused": 1,
        "Stuck orders": 0,
    }
    assert response.context["top_revenue"][0].service_id == seed.services[0].pk


def test_staff_without_the_permission_see_neither_the_pages_nor_the_actions(
    client: Client, seed: Seed
) -> None:
    client.force_login(staff_with())
    index = client.get(reverse("admin:index"))
    assert "dashboard" not in index.context
    body = index.content.decode()
    assert reverse("console:queue", args=["review"]) not in body
    assert reverse("console:markup") not in body
    for name in ("review", "held", "failed", "refills", "paused"):
        assert client.get(reverse("console:queue", args=[name])).status_code == 403
    act = reverse("console:order_act", args=[seed.review.pk])
    assert client.post(act, {"action": "cancel"}).status_code == 403
    assert client.get(reverse("console:markup")).status_code == 403
    assert client.get(reverse("admin:orders_order_export")).status_code == 403
    seed.review.refresh_from_db()
    assert seed.review.status == "needs_review"


def test_staff_who_may_only_view_orders_see_the_queue_without_its_actions(
    client: Client, seed: Seed
) -> None:
    client.force_login(staff_with("orders.view_order"))
    response = client.get(reverse("console:queue", args=["review"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(seed.review.pk) in body
    assert reverse("console:order_act", args=[seed.review.pk]) not in body
    act = reverse("console:order_act", args=[seed.review.pk])
    assert client.post(act, {"action": "cancel", "queue": "review"}).status_code == 403
    # The sidebar shows the queues this user may see, not the others.
    assert reverse("console:queue", args=["paused"]) not in body


def test_it_cancels_and_refunds_from_the_review_queue_and_audits_it(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    order = seed.review
    response = client.post(
        reverse("console:order_act", args=[order.pk]), {"action": "cancel", "queue": "review"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.refunded) == ("canceled", order.charge)
    entry = AuditEntry.objects.get(object_id=str(order.pk))
    assert (entry.staff_email, entry.action) == ("boss@example.com", "review")
    assert LedgerEntry.objects.filter(order=order, kind="refund").count() == 1


def test_it_attaches_an_upstream_id_and_refuses_a_blank_one(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    url = reverse("console:order_act", args=[seed.review.pk])
    client.post(url, {"action": "attach", "upstream_id": "  ", "queue": "review"})
    seed.review.refresh_from_db()
    assert seed.review.status == "needs_review"
    client.post(url, {"action": "attach", "upstream_id": "55501", "queue": "review"})
    seed.review.refresh_from_db()
    assert (seed.review.status, seed.review.upstream_order_id) == ("sent", "55501")


def test_it_rejects_a_refill_from_the_refill_queue(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    client.post(reverse("console:refill_act", args=[seed.refill.pk]), {"action": "reject"})
    seed.refill.refresh_from_db()
    assert seed.refill.status == Refill.Status.REJECTED


def test_it_resumes_a_paused_provider_and_audits_before_and_after(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    paused = seed.providers[1]
    client.post(reverse("console:provider_act", args=[paused.pk]), {"action": "resume"})
    paused.refresh_from_db()
    assert paused.is_paused is False
    entry = AuditEntry.objects.get(object_id=str(paused.pk), action="provider")
    assert (entry.before, entry.after) == (
        {"is_paused": True, "paused_reason": "Not enough funds on balance"},
        {"is_paused": False, "paused_reason": ""},
    )


def test_it_previews_then_applies_a_bulk_markup(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    service = seed.services[0]  # cost 1.20, price 1.56
    query = {"provider": seed.providers[0].pk, "markup_percent": "50"}
    preview = client.get(reverse("console:markup"), query)
    rows = {row["service"].pk: row for row in preview.context["preview"]}
    assert (rows[service.pk]["old_rate"], rows[service.pk]["new_rate"]) == (
        Decimal("1.56000"),
        Decimal("1.80000"),
    )
    assert (rows[service.pk]["old_margin"], rows[service.pk]["new_margin"]) == (
        Decimal("30.0"),
        Decimal("50.0"),
    )
    service.refresh_from_db()
    assert service.rate == Decimal("1.56000")  # a preview changes nothing

    client.post(reverse("console:markup"), {**query, "apply": "1"})
    service.refresh_from_db()
    assert (service.rate, service.markup_percent) == (Decimal("1.80000"), Decimal("50.00"))
    assert AuditEntry.objects.filter(action="price", object_id=str(seed.providers[0].pk)).exists()


def test_the_bulk_markup_needs_a_category_or_a_provider(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    response = client.get(reverse("console:markup"), {"markup_percent": "50"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Choose a category or a provider (or both)."
    ]


def test_it_streams_the_filtered_orders_as_csv(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    response = client.get(reverse("admin:orders_order_export"), {"status__exact": "failed"})
    assert isinstance(response, StreamingHttpResponse)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "user", "service_id"]
    assert {row[9] for row in rows[1:]} == {"failed"}
    assert len(rows) - 1 == Order.objects.filter(status="failed").count()


def test_it_streams_transactions_and_defuses_formulas(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    from accounts.services import funds_adjust

    funds_adjust(user=seed.customer, amount=Decimal("5"), reason="=HYPERLINK(1)", staff=staff_admin)
    client.force_login(staff_admin)
    response = client.get(reverse("admin:accounts_ledgerentry_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][3:6] == ["adjustment", "5.00000", "5.00000"]
    assert rows[1][8] == "'=HYPERLINK(1)"


def test_a_balance_adjustment_is_audited_with_before_and_after(
    staff_admin: User, seed: Seed
) -> None:
    from accounts.services import funds_adjust

    funds_adjust(user=seed.customer, amount=Decimal("12.5"), reason="Bonus", staff=staff_admin)
    entry = AuditEntry.objects.get(action="money")
    assert (entry.before, entry.after) == ({"balance": "0.00000"}, {"balance": "12.50000"})


def test_a_provider_edit_in_the_admin_is_audited(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    provider = seed.providers[0]
    url = reverse("admin:catalog_provider_change", args=[provider.pk])
    form = {
        "name": provider.name,
        "api_url": provider.api_url,
        "api_key": "",
        "currency": "USD",
        "exchange_rate": "1",
        "default_markup_percent": "45",
        "sync_interval_minutes": "60",
        "low_balance_threshold": "100",
        "is_enabled": "on",
    }
    assert client.post(url, form).status_code == 302
    entry = AuditEntry.objects.get(action="provider")
    assert (entry.before, entry.after) == (
        {"default_markup_percent": None},
        {"default_markup_percent": "45.00"},
    )
    history = client.get(reverse("admin:console_auditentry_changelist"), {"q": provider.name})
    assert "45.00" in history.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "admin:orders_order_changelist",
        "admin:accounts_user_changelist",
        "admin:catalog_service_changelist",
        "admin:catalog_provider_changelist",
        "admin:console_auditentry_changelist",
        "admin:console_notification_changelist",
    ],
)
def test_the_lists_render(client: Client, staff_admin: User, seed: Seed, path: str) -> None:
    client.force_login(staff_admin)
    assert client.get(reverse(path)).status_code == 200


def test_the_service_list_shows_the_inherited_markup(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    Service.objects.filter(pk=seed.services[0].pk).update(markup_percent=None, fixed_rate=None)
    body = client.get(reverse("admin:catalog_service_changelist")).content.decode()
    assert 'title="default">30%<' in body


def test_staff_without_two_factor_are_sent_to_set_it_up(
    client: Client, staff_admin: User, seed: Seed, settings: object
) -> None:
    settings.MFA_REQUIRED_FOR_STAFF = True  # type: ignore[attr-defined]
    client.force_login(staff_admin)
    for url in (reverse("admin:index"), reverse("console:queue", args=["review"])):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, reverse("mfa_activate_totp"))


def test_a_custom_rate_set_in_the_admin_is_audited(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    client.force_login(staff_admin)
    service = seed.services[0]
    response = client.post(
        reverse("admin:catalog_userrate_add"),
        {"user": seed.customer.pk, "service": service.pk, "rate": "1.50000"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="price", object_id=str(seed.customer.pk))
    assert (entry.before, entry.after) == ({"rate": None}, {"rate": "1.50000"})


def test_the_stuck_filter_lists_orders_waiting_too_long(
    client: Client, staff_admin: User, seed: Seed
) -> None:
    from tests.console.seed import make_order

    stuck = make_order(user=seed.customer, service=seed.services[0], status="queued", days_ago=1)
    fresh = make_order(user=seed.customer, service=seed.services[0], status="queued")
    client.force_login(staff_admin)
    response = client.get(reverse("admin:orders_order_changelist"), {"stuck": "yes"})
    shown = {order.pk for order in response.context["cl"].result_list}
    assert shown == {stuck.pk}
    assert fresh.pk not in shown
    counters = client.get(reverse("admin:index")).context["counters"]
    assert dict((str(label), count) for label, count, _url in counters)["Stuck orders"] == 1
