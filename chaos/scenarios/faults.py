"""Scenarios 2 and 6: the provider misbehaves while we forward orders, and while we poll them."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from catalog.models import Provider
from chaos.clients import ResellerApi
from chaos.world import QUANTITY, Result, World
from orders.models import Order
from orders.states import POLLABLE, RANK
from panel.smmapi.protocol import Error

BIG_BALANCE = Decimal("100000")


@dataclass(frozen=True)
class Fault:
    name: str
    knobs: dict[str, object]
    expect: frozenset[str]  # what its orders end as: sent, needs_review, failed, queued
    refused: bool = False  # nothing listens at the provider's address


SENT, REVIEW = frozenset({"sent"}), frozenset({"needs_review"})
FAILED, QUEUED = frozenset({"failed"}), frozenset({"queued"})
# In this order: those whose orders are retried come last, so that their retries meet no fault.
FAULTS: tuple[Fault, ...] = (
    Fault("5xx", {"http_5xx_rate": 1}, REVIEW),
    Fault("HTML page", {"html_rate": 1}, REVIEW),
    Fault("invalid JSON", {"invalid_json_rate": 1}, REVIEW),
    Fault("read timeout", {"timeout_rate": 1}, REVIEW),
    Fault("rejected", {"error_rate": 1, "error_text": Error.INCORRECT_LINK}, FAILED),
    # Retried minutes later (or when a paused provider resumes): queued, or sent by then.
    Fault("active link", {"error_rate": 1, "error_text": Error.ACTIVE_ORDER}, QUEUED | SENT),
    Fault("refused", {}, SENT, refused=True),
    Fault("rate limited", {"rate_limit_rate": 1}, SENT),
    Fault("no funds", {"funds_rate": 1}, SENT),
)
MIXED = {
    "http_5xx_rate": 0.08,
    "html_rate": 0.08,
    "invalid_json_rate": 0.08,
    "timeout_rate": 0.08,
    "error_rate": 0.08,
    "error_text": Error.INCORRECT_LINK,
    # No "no funds": each pauses the provider until a sweep, and a provider paused more than
    # ORDERS_PROVIDER_PAUSE_LIMIT times an hour stays paused for staff (by design).
    "rate_limit_rate": 0.08,
}


def outcome(order: Order) -> str:
    if order.status == "needs_review":
        return "needs_review"
    if order.upstream_order_id:
        return "sent"
    return order.status


def place(world: World, api: ResellerApi, tag: str, count: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: world.add(api, f"{tag}-{i}"), range(count)))
    ids = [int(a["order"]) for a in answers if isinstance(a, dict) and "order" in a]
    if len(ids) != count:
        bad = [a for a in answers if not (isinstance(a, dict) and "order" in a)]
        raise RuntimeError(f"placing {tag}: {len(bad)} refused, e.g. {bad[0]!r}")
    return ids


def first_attempts_done(
    world: World, ids: Sequence[int], *, paused_counts: bool = True
) -> Callable[[], bool]:
    """Every order was tried once (or, if ``paused_counts``, waits behind a provider paused
    for its funds)."""

    def done() -> bool:
        orders = Order.objects.filter(pk__in=ids)
        if orders.filter(status="sending").exists():
            return False
        untried = orders.filter(attempts=0, status="queued").exists()
        paused = Provider.objects.filter(pk=world.provider.pk, is_paused=True).exists()
        return not untried or (paused and paused_counts)

    return done


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provider_faults(world: World, *, per_fault: int = 8, mixed: int = 40) -> Result:
    """Each fault alone on ``add`` (``per_fault`` orders), then all of them mixed."""
    _user, api = world.reseller(BIG_BALANCE)
    phases: dict[str, list[int]] = {}
    problems: list[str] = []
    real_url = world.provider.api_url
    for fault in FAULTS:
        if fault.refused:
            Provider.objects.filter(pk=world.provider.pk).update(
                api_url=f"http://127.0.0.1:{closed_port()}/api/v2"
            )
        world.sim.knobs(**fault.knobs, actions=["add"])
        try:
            tag = "s2-" + fault.name.replace(" ", "-").lower()
            ids = phases[fault.name] = place(world, api, tag, per_fault)
            if not world.wait(first_attempts_done(world, ids), timeout=60):
                problems.append(f"{fault.name}: orders were not tried within 60 s")
        finally:
            world.sim.calm()
            Provider.objects.filter(pk=world.provider.pk).update(api_url=real_url)
    # Retries of the single faults go out before the mixed faults could meet them.
    single = [pk for ids in phases.values() for pk in ids]
    if not world.wait(lambda: not world.forwarding(single), timeout=120):
        problems.append("single faults: retries not done within 120 s")
    world.sim.knobs(**MIXED, actions=["add"])
    try:
        ids = phases["mixed"] = place(world, api, "s2-mixed", mixed)
        tried = first_attempts_done(world, ids, paused_counts=False)
        if not world.wait(tried, timeout=120):
            problems.append("mixed: orders were not tried within 120 s")
    finally:
        world.sim.calm()

    every = [pk for ids in phases.values() for pk in ids]
    settled = world.settle(every, timeout=180)
    if not settled:
        problems.append("orders did not settle within 180 s")
    problems += world.check(every, settled=settled)

    parts = []
    totals: Counter[str] = Counter()
    for fault in FAULTS:
        ends = Counter(outcome(o) for o in Order.objects.filter(pk__in=phases[fault.name]))
        totals.update(ends)
        if set(ends) - fault.expect:
            want = " or ".join(sorted(fault.expect))
            problems.append(f"{fault.name}: expected {per_fault} {want}, got {dict(ends)}")
        parts.append(f"{fault.name} {per_fault}→{_short(ends)}")
    mixed_ends = Counter(outcome(o) for o in Order.objects.filter(pk__in=phases["mixed"]))
    totals.update(mixed_ends)
    unexpected = set(mixed_ends) - {"sent", "needs_review", "failed"}
    if unexpected:
        problems.append(f"mixed: unexpected outcomes {dict(mixed_ends)}")
    figures = (
        f"{'; '.join(parts)}; mixed {mixed}→{_short(mixed_ends)}. "
        f"Total {len(every)}: {totals['sent']} sent once, {totals['needs_review']} in review, "
        f"{totals['failed']} failed+refunded once, {totals['queued']} retry later; "
        f"{_count(problems, 'sent twice')} sent twice, {_count(problems, 'not ')} lost"
    )
    return Result(2, "provider faults while forwarding", not problems, figures, problems)


def _short(ends: Counter[str]) -> str:
    names = {"sent": "sent", "needs_review": "review", "failed": "failed", "queued": "queued"}
    return "+".join(f"{n} {names.get(k, k)}" for k, n in sorted(ends.items()))


def _count(problems: list[str], needle: str) -> int:
    return sum(1 for p in problems if needle in p)


# --- scenario 6 ------------------------------------------------------------------------------

GARBAGE_STATUSES = ("¯\\_(ツ)_/¯", "", "null", "???")
# Final answers no provider can mean: remains below 0, above the units, beyond any column.
IMPOSSIBLE = (
    ("Partial", -5),
    ("Partial", QUANTITY * 10),
    ("Partial", 10**20),
    ("Completed", QUANTITY + 50),
)
# Sane final answers, delivered with odd spellings and numbers as JSON numbers.
SANE = (("Partial", 30), ("Canceled", QUANTITY), ("Completed", 0), ("Partial", 1))
# Open statuses (needs review among them: the provider's answer was held for a person).
OPEN_RANK = {**{s: r for s, r in RANK.items() if s in POLLABLE}, Order.Status.NEEDS_REVIEW: 2}


@dataclass
class Sampler:
    """Reads the orders' statuses over and over; remembers every backward move it saw."""

    ids: list[int]
    backward: list[str] = field(default_factory=list)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        seen: dict[int, str] = {}
        try:
            while not self._stop.is_set():
                rows = Order.objects.filter(pk__in=self.ids).values_list("pk", "status")
                for pk, status in rows:
                    before = seen.get(pk)
                    if before is not None and _rank(status) < _rank(before):
                        self.backward.append(f"order {pk}: {before} → {status}")
                    seen[pk] = status
                self.samples += 1
                self._stop.wait(0.2)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _rank(status: str) -> int:
    return OPEN_RANK.get(status, 3)


def garbage_status_sync(world: World, *, orders: int = 32, rounds: int = 3) -> Result:
    """Status sync while the provider answers garbage, odd spellings, impossible numbers and
    "Incorrect order ID" for ids it forgot."""
    _user, api = world.reseller(BIG_BALANCE)
    ids = place(world, api, "s6", orders)
    problems: list[str] = []
    if not world.wait(
        lambda: Order.objects.filter(pk__in=ids).exclude(upstream_order_id="").count() == orders,
        timeout=60,
    ):
        raise RuntimeError("scenario 6: the orders were not sent within 60 s")
    rows = dict(Order.objects.filter(pk__in=ids).values_list("pk", "upstream_order_id"))
    groups = _groups(ids)
    steer: list[dict[str, Any]] = []
    for pk, status in zip(groups["garbage"], GARBAGE_STATUSES * orders, strict=False):
        steer.append({"id": int(rows[pk]), "status": status})
    for pk, (status, remains) in zip(groups["impossible"], IMPOSSIBLE, strict=False):
        steer.append({"id": int(rows[pk]), "status": status, "remains": remains})
    for pk, (status, remains) in zip(groups["odd"], SANE * orders, strict=False):
        steer.append({"id": int(rows[pk]), "status": status, "remains": remains})
    forgotten = [int(rows[pk]) for pk in groups["forgotten"]]
    world.forgotten.update(str(i) for i in forgotten)
    world.unsettleable.update(groups["impossible"])

    calls_before = world.sim.count("status")
    with Sampler(ids) as sampler:
        world.sim.command(set_order=steer, forget_order=forgotten)
        # Whole answers spoiled for a while: Cloudflare pages and PHP warnings.
        world.sim.knobs(
            html_rate=0.3,
            invalid_json_rate=0.3,
            odd_status_rate=1,
            int_numbers_rate=0.5,
            actions=["status"],
        )
        calls = world.sim.count("status")
        if not world.wait(lambda: world.sim.count("status") >= calls + rounds, timeout=120):
            problems.append(f"status sync made fewer than {rounds} calls in 120 s")
        # Spellings and numbers stay odd; the rest of the orders finish normally.
        world.sim.knobs(html_rate=0, invalid_json_rate=0)
        world.sim.command(finish_all=True)
        normal = groups["odd"] + groups["normal"]
        if not world.wait(
            lambda: not Order.objects.filter(pk__in=normal, status__in=OPEN_RANK).exists(),
            timeout=120,
        ):
            problems.append("sane final answers were not all settled within 120 s")
        calls = world.sim.count("status")
        world.wait(lambda: world.sim.count("status") >= calls + 1, timeout=60)
        garbage_open = Order.objects.filter(
            pk__in=groups["garbage"], status__in=OPEN_RANK, refunded=0
        ).count()
        forgotten_open = Order.objects.filter(
            pk__in=groups["forgotten"], status__in=OPEN_RANK, refunded=0
        ).count()
        impossible_unsettled = Order.objects.filter(
            pk__in=groups["impossible"], status__in=OPEN_RANK, refunded=0
        ).count()
        # The garbage statuses turn into real ones: those orders finish like any other.
        world.sim.calm()
        world.sim.command(
            set_order=[{"id": int(rows[pk]), "status": "Completed"} for pk in groups["garbage"]]
        )
        if not world.wait(
            lambda: (
                not Order.objects.filter(pk__in=groups["garbage"], status__in=OPEN_RANK).exists()
            ),
            timeout=90,
        ):
            problems.append("orders with garbage statuses did not finish once repaired")
    problems += sampler.backward
    problems += world.check(ids, settled=True)
    if garbage_open != len(groups["garbage"]):
        problems.append(f"garbage statuses: {garbage_open}/{len(groups['garbage'])} left open")
    if forgotten_open != len(groups["forgotten"]):
        problems.append(f'"Incorrect order ID": {forgotten_open} of {len(forgotten)} left open')
    if impossible_unsettled != len(groups["impossible"]):
        problems.append(
            f"impossible numbers: {impossible_unsettled}/{len(groups['impossible'])} unsettled"
        )
    ends = Counter(Order.objects.filter(pk__in=ids).values_list("status", flat=True))
    figures = (
        f"{orders} orders, {world.sim.count('status') - calls_before} status calls "
        f"(30 % HTML, 30 % bad JSON "
        f"for {rounds} calls; all respelled): {len(groups['odd']) + len(groups['normal'])} sane "
        f"finals settled, {garbage_open}/{len(groups['garbage'])} garbage statuses ignored, "
        f"{impossible_unsettled}/{len(groups['impossible'])} impossible numbers not settled, "
        f'{forgotten_open}/{len(groups["forgotten"])} "Incorrect order ID" left open; '
        f"{len(sampler.backward)} backward moves in {sampler.samples} samples; "
        f"end {dict(ends)}"
    )
    return Result(6, "status sync on garbage", not problems, figures, problems)


def _groups(ids: list[int]) -> dict[str, list[int]]:
    """Split the orders: garbage statuses, impossible numbers, forgotten, odd-but-sane, normal."""
    n = len(ids)
    garbage = max(1, n // 8)
    impossible = min(len(IMPOSSIBLE), max(1, n // 8))
    forgotten = max(1, n // 10)
    odd = max(1, n // 4)
    cuts = [0, garbage, garbage + impossible, garbage + impossible + forgotten]
    cuts.append(cuts[-1] + odd)
    return {
        "garbage": ids[cuts[0] : cuts[1]],
        "impossible": ids[cuts[1] : cuts[2]],
        "forgotten": ids[cuts[2] : cuts[3]],
        "odd": ids[cuts[3] : cuts[4]],
        "normal": ids[cuts[4] :],
    }
