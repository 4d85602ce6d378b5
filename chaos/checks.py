"""The checker every scenario ends with: our ledger, and our orders against the provider's record.

Rules (links are unique per order in every scenario, so an upstream order is found by its link):

* ``check_ledger`` is clean and no balance is below 0;
* each of our orders with an upstream id exists upstream exactly once, under that id, and no
  other upstream order carries its link;
* each upstream order is one of ours: its id is recorded on exactly one order, or it belongs to
  one of our orders in needs review (an unknown outcome, waiting for a person);
* an order that surely never reached the provider (failed, queued) has no upstream order;
* failed orders are refunded in full, once; no order has more than one refund entry;
* once settled, every order the provider finished is finished the same way here, and refunded
  what the provider's final state says: nothing for Completed, the charge for Canceled,
  ``remains × unit price`` (rounded down) for Partial.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.management import CommandError, call_command
from django.db.models import Count, Min, Sum

from accounts.models import LedgerEntry, User
from orders.models import Order
from orders.states import POLLABLE

S = Order.Status
# Where an order recorded as at the provider can be: followed by status sync, or finished.
HAS_UPSTREAM = (*POLLABLE, S.COMPLETED, S.PARTIAL, S.CANCELED, S.EXPIRED)
# The provider's final statuses (of the Default orders the scenarios place) and ours for them.
FINAL_UPSTREAM = {"Completed": S.COMPLETED, "Partial": S.PARTIAL, "Canceled": S.CANCELED}
NEVER_SENT = (S.FAILED, S.QUEUED)
CENT = Decimal("0.00001")


@dataclass
class Upstream:
    id: int
    link: str
    status: str
    remains: int


def ledger_problems() -> list[str]:
    """What ``manage.py check_ledger`` reports, plus any negative balance."""
    out = io.StringIO()
    problems = []
    try:
        call_command("check_ledger", stdout=out)
    except CommandError as exc:
        problems.append(f"check_ledger: {exc}: {out.getvalue().strip()[:500]}")
    lowest = User.objects.aggregate(lowest=Min("balance"))["lowest"]
    if lowest is not None and lowest < 0:
        problems.append(f"a balance is below 0: {lowest}")
    return problems


def expected_refund(order: Order, status: str, remains: int) -> Decimal:
    units = order.quantity * (order.runs or 1)
    if status == "canceled":
        return Decimal(order.charge)
    if status == "partial" and units > 0:
        share = min(max(remains, 0), units)
        return (Decimal(order.charge) * share / units).quantize(CENT, ROUND_DOWN)
    return Decimal(0)


def record_problems(
    record: Iterable[dict[str, Any]],
    *,
    scope: Collection[int],
    settled: bool,
    forgotten: Collection[str] = (),
    unsettleable: Collection[int] = (),
) -> list[str]:
    """Compare every order of ours with the provider's record (see the module docstring).

    ``scope``: the orders of ours to judge (a scenario's own); upstream orders are judged when
    their link is one of these orders' or no order's of ours.
    ``settled``: the provider finished them and status sync had time to see it.
    ``forgotten``: upstream ids the provider purged on purpose (they must stay open, unpaid).
    ``unsettleable``: our order ids the provider gave impossible final numbers; they must not
    be settled (no refund, not final) and are left out of the refund comparison.
    """
    upstream = [
        Upstream(int(row["id"]), str(row["link"]), str(row["status"]), int(row["remains"]))
        for row in record
    ]
    by_id = {str(row.id): row for row in upstream}
    by_link: dict[str, list[Upstream]] = defaultdict(list)
    for row in upstream:
        by_link[row.link].append(row)

    problems: list[str] = []
    orders = list(
        Order.objects.only(
            "id", "status", "upstream_order_id", "link", "charge", "refunded", "quantity", "runs"
        ).order_by("id")
    )
    refunds = dict(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND)
        .values_list("order_id")
        .annotate(n=Count("id"))
        .values_list("order_id", "n")
    )
    refunded_sum = dict(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND)
        .values_list("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    recorded = Counter(o.upstream_order_id for o in orders if o.upstream_order_id)
    in_review_links = {
        o.link for o in orders if o.status == "needs_review" and not o.upstream_order_id
    }
    ours_links = {o.link for o in orders}

    judged = set(scope)
    for order in orders:
        if order.pk not in judged:
            continue
        name = f"order {order.pk} ({order.status})"
        same_link = by_link.get(order.link, [])
        if refunds.get(order.pk, 0) > 1:
            problems.append(f"{name}: refunded {refunds[order.pk]} times")
        if Decimal(refunded_sum.get(order.pk) or 0) != Decimal(order.refunded):
            problems.append(f"{name}: refunded {order.refunded} but the ledger says otherwise")
        if order.refunded > order.charge:
            problems.append(f"{name}: refunded {order.refunded} of a {order.charge} charge")
        if order.upstream_order_id:
            found = by_id.get(order.upstream_order_id)
            if order.upstream_order_id in forgotten:
                if order.status not in POLLABLE or order.refunded:
                    problems.append(f"{name}: settled on an order the provider forgot")
                continue
            if found is None:
                problems.append(f"{name}: upstream id {order.upstream_order_id} not upstream")
                continue
            if found.link != order.link:
                problems.append(f"{name}: upstream {found.id} has another link")
            if len(same_link) > 1:
                problems.append(f"{name}: {len(same_link)} upstream orders (sent twice)")
            if order.pk in unsettleable:
                if order.status in FINAL_UPSTREAM.values() or order.refunded:
                    problems.append(f"{name}: settled on an impossible number from upstream")
                continue
            final = FINAL_UPSTREAM.get(found.status)
            if final and order.status in POLLABLE and settled:
                problems.append(f"{name}: upstream is {found.status}, not synced")
            if final and order.status in FINAL_UPSTREAM.values():
                if order.status != final:
                    problems.append(f"{name}: upstream ended {found.status}")
                want = expected_refund(order, final, found.remains)
                if Decimal(order.refunded) != want:
                    problems.append(
                        f"{name}: refunded {order.refunded}, upstream {found.status} with "
                        f"remains {found.remains} means {want}"
                    )
        elif order.status == "needs_review":
            if len(same_link) > 1:
                problems.append(f"{name}: {len(same_link)} upstream orders (sent twice)")
        elif order.status in NEVER_SENT and same_link:
            problems.append(f"{name}: yet upstream has {[r.id for r in same_link]}")
        elif order.status in HAS_UPSTREAM:
            problems.append(f"{name}: no upstream id recorded")
        if order.status == "failed" and Decimal(order.refunded) != Decimal(order.charge):
            problems.append(f"{name}: failed but refunded {order.refunded} of {order.charge}")

    judged_links = {o.link for o in orders if o.pk in judged}
    judged_ids = {o.upstream_order_id for o in orders if o.pk in judged}
    for upstream_id, times in recorded.items():
        if times > 1 and upstream_id in judged_ids:
            problems.append(f"upstream id {upstream_id} recorded on {times} orders")
    for row in upstream:
        if row.link in ours_links and row.link not in judged_links:
            continue  # another scenario's order: judged there
        if str(row.id) in recorded:
            continue
        if row.link in in_review_links:
            continue  # an unknown outcome that did reach the provider: staff attach it
        owner = "another order's link" if row.link in ours_links else "not ours"
        problems.append(f"upstream order {row.id} ({row.link}) is {owner}")
    return problems
