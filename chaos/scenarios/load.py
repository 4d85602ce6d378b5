"""Scenario 7: minutes of mixed traffic at a bounded rate, with catalogue syncs running."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.test import Client

from catalog.tasks import sync_provider
from chaos.clients import ResellerApi, WebSession
from chaos.scenarios.faults import BIG_BALANCE
from chaos.scenarios.processes import StackWorld
from chaos.world import QUANTITY, Result

PAGES = ("/", "/services/", "/orders/", "/orders/new/", "/transactions/")


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    placements: list[float] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)

    def count(self, error: str | None = None) -> None:
        with self.lock:
            self.requests += 1
            if error:
                self.errors.append(error)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def paced(rate: float, until: float, action: Callable[[int], None]) -> None:
    """Call ``action(i)`` ``rate`` times a second until ``until`` (monotonic), on schedule."""
    start, i = time.monotonic(), 0
    while True:
        due = start + i / rate
        if due > until:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        action(i)
        i += 1


def mixed_load(
    world: StackWorld,
    *,
    seconds: float = 300,
    order_rate: float = 3,
    poll_rate: float = 2,
    page_rate: float = 2,
    sync_every: float = 20,
) -> Result:
    tally = Tally()
    world.sim.knobs(speed=60)  # orders finish during the run, so syncs have work
    resellers = [world.reseller(BIG_BALANCE) for _ in range(3)]
    sessions = []
    for user, _api in resellers[:2]:
        browser = Client()
        browser.force_login(user)
        sessions.append(
            WebSession(world.web_url, ("sessionid", browser.cookies["sessionid"].value))
        )
    until = time.monotonic() + seconds

    def order(i: int) -> None:
        api: ResellerApi = resellers[i % len(resellers)][1]
        try:
            status, body, elapsed = api.call(
                action="add", service=world.service.pk, link=world.link("s7"), quantity=QUANTITY
            )
        except Exception as exc:
            tally.count(f"add: {exc!r}")
            return
        ok = status == 200 and isinstance(body, dict) and "order" in body
        tally.count(None if ok else f"add: HTTP {status} {body!r}")
        if ok:
            with tally.lock:
                tally.placements.append(elapsed)
                tally.orders.append(int(body["order"]))

    def poll(i: int) -> None:
        api = resellers[i % len(resellers)][1]
        with tally.lock:
            recent = tally.orders[-100:]
        try:
            if i % 2 and recent:
                status, body, _ = api.call(action="status", orders=",".join(map(str, recent)))
            else:
                status, body, _ = api.call(action="balance")
        except Exception as exc:
            tally.count(f"status: {exc!r}")
            return
        ok = status == 200 and isinstance(body, dict) and (not recent or "error" not in body)
        tally.count(None if ok else f"status: HTTP {status} {str(body)[:200]}")

    def browse(i: int) -> None:
        page = PAGES[i % len(PAGES)]
        try:
            response = sessions[i % len(sessions)].get(page)
        except Exception as exc:
            tally.count(f"GET {page}: {exc!r}")
            return
        tally.count(None if response.status_code == 200 else f"GET {page}: {response.status_code}")

    syncs = [0]

    def sync(_i: int) -> None:
        sync_provider.delay(world.provider.pk)
        syncs[0] += 1

    threads = [
        threading.Thread(
            target=paced, args=(order_rate / 2, until, lambda i, k=k: order(2 * i + k))
        )
        for k in range(2)
    ]
    threads += [
        threading.Thread(target=paced, args=(poll_rate, until, poll)),
        threading.Thread(target=paced, args=(page_rate, until, browse)),
        threading.Thread(target=paced, args=(1 / sync_every, until, sync)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        session.close()
    world.sim.knobs(speed=3600)

    ids = list(tally.orders)
    settled = world.settle(ids, timeout=150)
    problems = world.check(ids, settled=settled)
    error_rate = len(tally.errors) / max(tally.requests, 1)
    p95 = percentile(tally.placements, 0.95)
    if error_rate >= 0.005:
        problems.append(f"error rate {error_rate:.2%}, e.g. {tally.errors[:3]}")
    if p95 > 0.3:
        problems.append(f"p95 placement {p95 * 1000:.0f} ms")
    if not settled:
        problems.append("orders did not settle after the load")
    figures = (
        f"{seconds:.0f} s at {order_rate + poll_rate + page_rate:.0f} req/s "
        f"({order_rate:g} adds, {poll_rate:g} status/balance, {page_rate:g} pages) and "
        f"{syncs[0]} catalogue syncs: {tally.requests} requests, {len(tally.errors)} errors "
        f"({error_rate:.2%}), placement p50 {percentile(tally.placements, 0.5) * 1000:.0f} ms "
        f"p95 {p95 * 1000:.0f} ms, {len(ids)} orders; "
        f"{'ledger and record clean' if not problems else f'{len(problems)} problem(s)'}"
    )
    return Result(7, "mixed load", not problems, figures, problems)
