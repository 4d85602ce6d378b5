"""The order and refill state machines (orders.states): the table, and that nothing bypasses it."""

import ast
from collections import deque
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from orders import states
from orders.models import Order, Refill
from orders.states import (
    REFILL_TRANSITIONS,
    TRANSITIONS,
    IllegalMove,
    orders_move,
    orders_record,
)

ROOT = Path(__file__).resolve().parents[2]
# Not application code: tests build rows in any status, migrations and tools do not run in the
# panel, and the simulator is a fake provider with orders of its own.
SKIPPED = {"tests", "migrations", ".venv", "node_modules", "var", "bench", "chaos", "scripts"}
SKIPPED |= {"simulator"}


def reachable(table, initial):
    seen, todo = {initial}, deque([initial])
    while todo:
        for target in table[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize(
    ("table", "choices", "initial", "final"),
    [
        (TRANSITIONS, states.OrderStatus, states.INITIAL, states.FINAL),
        (REFILL_TRANSITIONS, states.RefillStatus, states.REFILL_INITIAL, states.REFILL_FINAL),
    ],
    ids=["orders", "refills"],
)
def test_it_reaches_every_status_and_never_leaves_a_final_one(table, choices, initial, final):
    assert set(table) == set(choices)
    assert reachable(table, initial) == set(choices)
    for status in choices:
        assert (table[status] == frozenset()) == (status in final), status
        # From every open status some final status can still be reached: nothing is stuck.
        assert reachable(table, status) & set(final), status


def test_it_builds_the_groups_from_the_statuses():
    assert set(states.OPEN) | set(states.FINAL) == set(states.OrderStatus)
    assert not set(states.OPEN) & set(states.FINAL)
    for group in (states.ACTIVE_LINK, states.POLLABLE, states.UPSTREAM_CANCELABLE, states.LIVE):
        assert set(group) <= set(states.OPEN)
    assert set(states.REFUNDABLE) | set(states.PROVIDER_REFUNDS) <= set(states.FINAL)
    assert set(states.RANK) == set(states.POLLABLE) | set(states.FINAL)
    assert set(states.REFILL_OPEN) | set(states.REFILL_FINAL) == set(states.RefillStatus)
    # The model's constraints are built from the groups (one source of truth).
    index = next(i for i in Order._meta.indexes if i.name == "order_active_link")
    assert index.condition == Q(status__in=list(states.ACTIVE_LINK))
    unique = next(c for c in Refill._meta.constraints if c.name == "refill_one_open_per_order")
    assert unique.condition == Q(status__in=list(states.REFILL_OPEN))


def test_it_refuses_a_move_the_table_does_not_allow(db):
    with pytest.raises(IllegalMove):
        orders_move(where=Q(pk=1), expect=Order.Status.COMPLETED, to=Order.Status.QUEUED)
    with pytest.raises(IllegalMove):
        orders_move(where=Q(pk=1), expect=(), to=Order.Status.QUEUED)


def _source_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED & set(relative.parts) or relative == Path("orders/states.py"):
            continue
        yield relative, path.read_text()


def _mentions_order_or_refill(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return any(word in text for word in ("Order", "Refill", "order", "refill"))


def status_writes(source: str) -> list[tuple[int, str]]:
    """Writes of an order's or refill's status: ``.update(status=…)`` / ``.create(status=…)``
    on an Order/Refill queryset, ``<order>.status = …``, and a status column in the field list
    of a bulk write (``bulk_set`` / ``bulk_update``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            receiver = node.func.value
            keywords = {k.arg for k in node.keywords}
            if (
                name in ("update", "create", "get_or_create", "update_or_create")
                and "status" in keywords
                and _mentions_order_or_refill(receiver)
            ):
                found.append((node.lineno, ast.unparse(node)[:80]))
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else None
            func = func or (node.func.id if isinstance(node.func, ast.Name) else None)
            if func in ("bulk_set", "bulk_update"):
                for arg in node.args[1:]:
                    if isinstance(arg, ast.List | ast.Tuple) and any(
                        isinstance(e, ast.Constant) and e.value == "status" for e in arg.elts
                    ):
                        found.append((node.lineno, ast.unparse(node)[:80]))
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and _mentions_order_or_refill(target.value)
                ):
                    found.append((node.lineno, ast.unparse(target)))
        if isinstance(node, ast.Assign):
            # A module-level list of columns a bulk writer takes (status_sync's _FIELDS).
            for target in node.targets:
                if (
                    isinstance(target, ast.Name)
                    and "FIELDS" in target.id
                    and isinstance(node.value, ast.List | ast.Tuple)
                    and any(
                        isinstance(e, ast.Constant) and e.value == "status" for e in node.value.elts
                    )
                ):
                    found.append((node.lineno, target.id))
    return found


def test_it_finds_direct_status_writes():
    source = (
        "Order.objects.filter(pk=1).update(status='sent')\n"
        "order.status = 'completed'\n"
        "bulk_set(refills, ['status', 'last_error'])\n"
        "_FIELDS = ['status', 'remains']\n"
        "Payment.objects.filter(pk=1).update(status='paid')\n"
    )
    assert sorted(line for line, _ in status_writes(source)) == [1, 2, 3, 4]


def test_it_writes_statuses_only_through_the_state_machine():
    offenders = [
        f"{relative}:{line}: {text}"
        for relative, source in _source_files()
        for line, text in status_writes(source)
    ]
    assert offenders == []


def _polled(customer, service, count):
    Order.objects.bulk_create(
        Order(
            user=customer,
            service=service,
            provider=service.provider,
            upstream_service_id=service.upstream_id,
            type="Default",
            quantity=10,
            rate=0,
            charge=0,
            status=Order.Status.SENT,
            upstream_order_id=str(i),
        )
        for i in range(1, count + 1)
    )
    return list(Order.objects.order_by("pk"))


def test_it_records_polled_columns_and_moves_in_one_statement(
    requires_postgres, customer, services
):
    orders = _polled(customer, services["default"], 3)
    for order in orders:
        order.upstream_status = "In progress"
    with CaptureQueriesContext(connection) as queries:
        orders_record(orders, ["upstream_status"], {orders[0].pk: Order.Status.IN_PROGRESS})
    assert len(queries) == 1
    rows = Order.objects.order_by("pk").values_list("status", "upstream_status")
    assert list(rows) == [
        ("in_progress", "In progress"),
        ("sent", "In progress"),
        ("sent", "In progress"),
    ]


def test_it_refuses_to_record_over_a_row_that_changed_status(requires_postgres, customer, services):
    orders = _polled(customer, services["default"], 2)
    Order.objects.filter(pk=orders[1].pk).update(status=Order.Status.CANCELED)
    orders[0].upstream_status = orders[1].upstream_status = "Completed"
    with pytest.raises(IllegalMove), transaction.atomic():
        orders_record(orders, ["upstream_status"], {orders[0].pk: Order.Status.COMPLETED})
    # The whole write rolled back with the caller's transaction.
    assert list(Order.objects.order_by("pk").values_list("status", "upstream_status")) == [
        ("sent", ""),
        ("canceled", ""),
    ]


def test_it_refuses_a_recorded_move_the_table_does_not_allow(customer, services):
    orders = _polled(customer, services["default"], 1)
    with pytest.raises(IllegalMove):
        orders_record(orders, ["upstream_status"], {orders[0].pk: Order.Status.QUEUED})
    assert Order.objects.get().status == Order.Status.SENT
