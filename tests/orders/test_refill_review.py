"""Staff resolutions of refills in needs review: attach the upstream id, resend, mark rejected."""

from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import LedgerEntry, User
from orders import tasks
from orders.errors import RefillError
from orders.models import Order, Refill
from orders.services import (
    ReviewError,
    refill_attach_upstream,
    refill_forward,
    refill_reject,
    refill_request,
    refill_resend,
    refills_sync_statuses,
)
from simulator import Simulator
from tests.factories import UserFactory
from tests.orders.test_refills_cancels import completed  # noqa: F401 - fixture


def _in_review(customer: User, order: Order, sim: Simulator, **faults: object) -> Refill:
    refill = refill_request(user=customer, order_id=order.pk)
    sim.state.set_knobs(**faults)
    assert refill_forward(refill_id=refill.pk) == "needs_review"
    sim.state.set_knobs(http_5xx_rate=0, html_rate=0)
    sim.state.reset_counts()
    refill.refresh_from_db()
    return refill


@pytest.fixture
def upstream_review(customer, completed, sim) -> Refill:  # noqa: F811
    """The provider created the refill, then answered 500: it exists upstream."""
    return _in_review(customer, completed, sim, http_5xx_rate=1, http_5xx_after=True)


@pytest.fixture
def lost_review(customer, completed, sim) -> Refill:  # noqa: F811
    """A Cloudflare-like 502 page: the refill never reached the provider."""
    return _in_review(customer, completed, sim, html_rate=1)


@pytest.fixture
def pending(customer, completed, sim) -> Refill:  # noqa: F811
    refill = refill_request(user=customer, order_id=completed.pk)
    assert refill_forward(refill_id=refill.pk) == "pending"
    sim.state.reset_counts()
    refill.refresh_from_db()
    return refill


def _state(refill: Refill) -> tuple[str, str, str]:
    refill.refresh_from_db()
    return (refill.status, refill.upstream_refill_id, refill.last_error)


def _history(refill: Refill) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(object_id=str(refill.pk), content_type__model="refill")
    return [(e.user.email, e.change_message) for e in entries.order_by("pk")]


def test_it_attaches_the_upstream_id_and_sync_takes_over(
    upstream_review, admin_user, provider, sim
):
    assert upstream_review.last_error.startswith("Unknown outcome:")
    upstream = sim.state.refills()[0]
    refill = refill_attach_upstream(
        refill_id=upstream_review.pk, upstream_refill_id=f" {upstream.id} ", staff=admin_user
    )
    assert _state(refill) == (
        "pending",
        str(upstream.id),
        "Upstream id attached by admin@example.com",
    )
    assert _history(refill) == [
        ("admin@example.com", f"Attached the provider's refill id {upstream.id}.")
    ]
    sim.state.advance(100)
    assert refills_sync_statuses(provider_id=provider.pk) == 1
    assert _state(refill)[0] == "completed"
    assert sim.state.counts["refill"] == 0  # nothing was sent again


def test_it_refuses_an_empty_or_taken_upstream_id(upstream_review, completed, admin_user):  # noqa: F811
    for bad in ("", "   ", "9" * 65):
        with pytest.raises(ReviewError) as exc:
            refill_attach_upstream(
                refill_id=upstream_review.pk, upstream_refill_id=bad, staff=admin_user
            )
        assert exc.value.message == "Enter the provider's refill id (at most 64 characters)."
    Refill.objects.create(order=completed, status="completed", upstream_refill_id="77")
    with pytest.raises(ReviewError) as exc:
        refill_attach_upstream(
            refill_id=upstream_review.pk, upstream_refill_id="77", staff=admin_user
        )
    assert exc.value.message == "Another refill of this provider already has that upstream id."
    with pytest.raises(ReviewError) as exc:
        refill_attach_upstream(refill_id=10**9, upstream_refill_id="1", staff=admin_user)
    assert exc.value.message == "This refill does not exist."
    assert _state(upstream_review)[:2] == ("needs_review", "")
    assert _history(upstream_review) == []


def test_it_resends_a_refill_that_never_reached_the_provider_once(
    lost_review, admin_user, sim, django_capture_on_commit_callbacks
):
    assert sim.state.refills() == []
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        refill = refill_resend(refill_id=lost_review.pk, staff=admin_user)
    delay.assert_called_once_with(lost_review.pk)
    assert _state(refill) == ("queued", "", "Resent by admin@example.com")
    assert _history(refill) == [("admin@example.com", "Resent (checked: not at the provider).")]
    # The enqueued message, then a duplicate of it (the sweeper's): one call upstream.
    tasks.forward_refill(lost_review.pk)
    tasks.forward_refill(lost_review.pk)
    assert sim.state.counts["refill"] == 1
    upstream = sim.state.refills()
    assert len(upstream) == 1
    assert _state(refill) == ("pending", str(upstream[0].id), "")


def test_it_marks_a_reviewed_refill_rejected_without_moving_money(
    upstream_review,
    admin_user,
    customer,
    completed,  # noqa: F811
):
    customer.refresh_from_db()
    ledger, balance = LedgerEntry.objects.count(), customer.balance
    refill = refill_reject(refill_id=upstream_review.pk, staff=admin_user, reason="Gone upstream.")
    assert _state(refill) == (
        "rejected",
        "",
        "Marked rejected by admin@example.com. Gone upstream.",
    )
    assert _history(refill) == [("admin@example.com", "Marked rejected. Gone upstream.")]
    assert LedgerEntry.objects.count() == ledger
    customer.refresh_from_db()
    assert customer.balance == balance
    # Closed: the customer may ask again.
    assert refill_request(user=customer, order_id=completed.pk).status == "queued"


@pytest.mark.parametrize(
    ("resolve", "message"),
    [
        (
            lambda pk, staff: refill_attach_upstream(
                refill_id=pk, upstream_refill_id="123", staff=staff
            ),
            "Only a refill that needs review can get an upstream id.",
        ),
        (
            lambda pk, staff: refill_resend(refill_id=pk, staff=staff),
            "Only a refill that needs review and has no upstream id can be resent.",
        ),
        (
            lambda pk, staff: refill_reject(refill_id=pk, staff=staff),
            "Only a refill that needs review can be marked rejected.",
        ),
    ],
)
def test_it_refuses_to_resolve_a_refill_not_in_review(
    pending, admin_user, sim, django_capture_on_commit_callbacks, resolve, message
):
    before = _state(pending)
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ReviewError) as exc,
    ):
        resolve(pending.pk, admin_user)
    assert exc.value.message == message
    delay.assert_not_called()
    assert _state(pending) == before
    assert _history(pending) == []
    # Once resolved, a second resolution is refused too.
    Refill.objects.filter(pk=pending.pk).update(status="rejected")
    with pytest.raises(ReviewError):
        resolve(pending.pk, admin_user)


def test_it_refuses_a_new_refill_while_one_of_the_order_needs_review(
    lost_review,
    completed,  # noqa: F811
    customer,
    admin_user,
):
    # The refill in review may exist at the provider: asking again could refill twice.
    with pytest.raises(RefillError) as exc:
        refill_request(user=customer, order_id=completed.pk)
    assert exc.value.api_error == "Refill is not available for this order"
    with pytest.raises(IntegrityError), transaction.atomic():
        Refill.objects.create(order=completed)
    refill_reject(refill_id=lost_review.pk, staff=admin_user)
    assert refill_request(user=customer, order_id=completed.pk).status == "queued"


# --- the admin ---------------------------------------------------------------------------------


def _staff_client(*codenames: str) -> tuple[Client, User]:
    user = UserFactory(email=f"staff-{len(codenames)}@example.com", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client, user


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_resends_from_the_admin_as_a_staff_user(
    lost_review, sim, django_capture_on_commit_callbacks
):
    client, staff = _staff_client("view_refill", "change_refill")
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("admin:orders_refill_changelist"),
            {"action": "resend", "_selected_action": [lost_review.pk]},
        )
    assert response.status_code == 302
    assert _messages(response) == ["1 refill(s) done."]
    delay.assert_called_once_with(lost_review.pk)
    assert _state(lost_review) == ("queued", "", f"Resent by {staff.email}")
    assert _history(lost_review) == [(staff.email, "Resent (checked: not at the provider).")]
    tasks.forward_refill(lost_review.pk)
    assert sim.state.counts["refill"] == 1
    assert _state(lost_review)[0] == "pending"


def test_it_marks_rejected_from_the_admin_only_what_needs_review(admin_client, upstream_review):
    other = Refill.objects.create(
        order=Order.objects.get(pk=upstream_review.order_id), status="completed"
    )
    response = admin_client.post(
        reverse("admin:orders_refill_changelist"),
        {"action": "mark_rejected", "_selected_action": [upstream_review.pk, other.pk]},
    )
    assert response.status_code == 302
    assert sorted(_messages(response)) == [
        "1 refill(s) done.",
        f"{other.pk}: Only a refill that needs review can be marked rejected.",
    ]
    assert _state(upstream_review) == ("rejected", "", "Marked rejected by admin@example.com.")
    assert _state(other) == ("completed", "", "")


def test_it_attaches_from_the_admin_form(admin_client, upstream_review, sim):
    change = reverse("admin:orders_refill_change", args=[upstream_review.pk])
    url = reverse("admin:orders_refill_attach_upstream", args=[upstream_review.pk])
    assert url in admin_client.get(change).content.decode()
    page = admin_client.get(url)
    assert page.status_code == 200
    assert (
        f"Refill {upstream_review.pk} of order {upstream_review.order_id}" in page.content.decode()
    )
    response = admin_client.post(url, {"upstream_refill_id": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"upstream_refill_id": ["This field is required."]}
    upstream = sim.state.refills()[0]
    response = admin_client.post(url, {"upstream_refill_id": str(upstream.id)})
    assert (response.status_code, response["Location"]) == (302, change)
    assert _state(upstream_review)[:2] == ("pending", str(upstream.id))
    # No longer in review: no link, and the form page sends staff back with a warning.
    assert url not in admin_client.get(change).content.decode()
    response = admin_client.get(url)
    assert (response.status_code, response["Location"]) == (302, change)
    assert _messages(response) == [
        f"Refill {upstream_review.pk} does not need review: there is nothing to attach."
    ]


def test_it_lets_view_only_staff_resolve_nothing(lost_review, django_capture_on_commit_callbacks):
    client, _staff = _staff_client("view_refill")
    assert client.get(reverse("admin:orders_refill_changelist")).status_code == 200
    with (
        mock.patch("orders.tasks.forward_refill.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for action in ("resend", "mark_rejected"):
            client.post(
                reverse("admin:orders_refill_changelist"),
                {"action": action, "_selected_action": [lost_review.pk]},
            )
    delay.assert_not_called()
    url = reverse("admin:orders_refill_attach_upstream", args=[lost_review.pk])
    assert client.post(url, {"upstream_refill_id": "1"}).status_code == 403
    assert _state(lost_review)[:2] == ("needs_review", "")
    assert _history(lost_review) == []
