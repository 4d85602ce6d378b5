"""Scenarios 3, 4 and 5: the worker, Redis and PostgreSQL die under the panel's feet."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.test import Client

from accounts.models import LedgerEntry
from chaos.clients import WebSession
from chaos.scenarios.faults import BIG_BALANCE, place
from chaos.stack import Stack
from chaos.world import QUANTITY, Result, World
from orders.models import Order

SWEEP_SECONDS = 30  # the beat schedule's sweeper interval
REDIS_DOWN_SECONDS = 15


class StackWorld(World):
    """A world whose background work is done by the real worker and beat of ``stack``."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        super().__init__(
            api_url=stack.api_url,
            web_url=stack.web_url,
            sim_url=stack.simulator_url,
            sim_key="sim-key",
        )

    def drive(self) -> None:
        time.sleep(0.5)


def _ends(ids: list[int]) -> Counter[str]:
    return Counter(
        "review" if status == "needs_review" else "sent" if upstream else status
        for status, upstream in Order.objects.filter(pk__in=ids).values_list(
            "status", "upstream_order_id"
        )
    )


def _reached_provider(world: World, ids: list[int]) -> int:
    """How many of the orders in needs review exist upstream (the others never left)."""
    upstream_links = {str(row["link"]) for row in world.sim.record()}
    review_links = Order.objects.filter(pk__in=ids, status="needs_review").values_list(
        "link", flat=True
    )
    return sum(1 for link in review_links if link in upstream_links)


def worker_kills(world: StackWorld, *, orders: int = 1000, kills: int = 10) -> Result:
    """SIGKILL the worker ``kills`` times at random moments while ``orders`` are forwarded."""
    _user, api = world.reseller(BIG_BALANCE)
    # Each add takes a moment upstream, so that kills land while calls are in flight.
    world.sim.knobs(latency_ms=50, actions=["add"])
    rng = random.Random(16)  # noqa: S311 - when to kill, not a secret
    placed: list[int] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as background:
        placing = background.submit(place, world, api, "s3", orders)
        for _ in range(kills):
            time.sleep(rng.uniform(0.5, 3.0))
            world.stack.restart_worker()
        placed = placing.result()
    last_kill = time.monotonic()
    world.sim.calm()
    # Stuck sends reach review after ORDERS_SENDING_TIMEOUT_SECONDS plus a sweep.
    drained = world.wait(
        lambda: not Order.objects.filter(pk__in=placed, status__in=("queued", "sending")).exists(),
        timeout=30 + 2 * SWEEP_SECONDS + 30,
    )
    drain = time.monotonic() - last_kill
    ends = _ends(placed)
    settled = world.settle(placed, timeout=120)
    problems = world.check(placed, settled=settled)
    if not drained:
        problems.append(f"left queued/sending after the sweeper: {dict(ends)}")
    if set(ends) - {"sent", "review"}:
        problems.append(f"unexpected outcomes {dict(ends)}")
    figures = (
        f"{orders} orders, {kills} SIGKILLs of the worker over {last_kill - started:.0f} s: "
        f"{ends['sent']} sent once, {ends['review']} in review "
        f"({_reached_provider(world, placed)} of them reached the provider), "
        f"{ends['queued'] + ends['sending']} queued/sending; drained {drain:.0f} s after the "
        f"last kill; {'record clean' if not problems else f'{len(problems)} problem(s)'}"
    )
    return Result(3, "worker SIGKILLed while forwarding", not problems, figures, problems)


def redis_down(world: StackWorld, *, orders: int = 100) -> Result:
    """Stop Redis (broker and cache), place orders through the web and the API, start it."""
    user, api = world.reseller(BIG_BALANCE)
    browser = Client()
    browser.force_login(user)
    web = WebSession(world.web_url, ("sessionid", browser.cookies["sessionid"].value))
    if web.load_form() != 200 or not web.token:
        raise RuntimeError("scenario 4: the new-order page did not load")
    problems: list[str] = []
    web_orders = orders // 2
    world.stack.redis.stop()
    try:
        down_at = time.monotonic()
        web_answers = [
            web.place(
                service=world.service.pk,
                link=world.link(f"s4-web-{i}"),
                quantity=QUANTITY,
                key=uuid.uuid4().hex,
            )
            for i in range(web_orders)
        ]
        api_answers = [world.add(api, f"s4-api-{i}") for i in range(orders - web_orders)]
        # Long enough for the worker and beat to notice the broker is gone.
        time.sleep(max(0.0, down_at + REDIS_DOWN_SECONDS - time.monotonic()))
        down_for = time.monotonic() - down_at
    finally:
        world.stack.redis.start()
    back_at = time.monotonic()
    web_ok = [
        r for r in web_answers if r.status_code == 302 and "/orders/" in r.headers["location"]
    ]
    api_ok = [a for a in api_answers if isinstance(a, dict) and "order" in a]
    ids = [int(r.headers["location"].split("/")[2]) for r in web_ok]
    ids += [int(a["order"]) for a in api_ok]
    charged = LedgerEntry.objects.filter(order_id__in=ids, kind="order_charge").count()
    forwarded = world.wait(
        lambda: Order.objects.filter(pk__in=ids, upstream_order_id="").count() == 0,
        timeout=120,
    )
    forward_seconds = time.monotonic() - back_at
    if len(web_ok) != web_orders:
        codes = Counter(r.status_code for r in web_answers)
        problems.append(f"web: {len(web_ok)}/{web_orders} accepted (HTTP {dict(codes)})")
    if len(api_ok) != orders - web_orders:
        other = next((a for a in api_answers if a not in api_ok), None)
        problems.append(f"API: {len(api_ok)}/{orders - web_orders} accepted, e.g. {other!r}")
    if charged != len(ids):
        problems.append(f"{charged} charges for {len(ids)} orders")
    if not forwarded:
        problems.append(f"not all forwarded within 120 s: {dict(_ends(ids))}")
    settled = world.settle(ids, timeout=120)
    problems += world.check(ids, settled=settled)
    figures = (
        f"Redis down {down_for:.0f} s: web {len(web_ok)}/{web_orders} and API "
        f"{len(api_ok)}/{orders - web_orders} accepted, {charged} charged; after restart all "
        f"{'forwarded' if forwarded else 'NOT forwarded'} in {forward_seconds:.0f} s "
        f"(limit 120 s); {'record clean' if not problems else f'{len(problems)} problem(s)'}"
    )
    web.close()
    return Result(4, "Redis stopped during placement", not problems, figures, problems)


def postgres_restart(world: StackWorld, *, orders: int = 300) -> Result:
    """Crash-restart PostgreSQL while orders are forwarded, then while statuses are synced."""
    _user, api = world.reseller(BIG_BALANCE)
    problems: list[str] = []
    # Slow adds and status calls keep forwarding and the sync busy long enough to hit them.
    world.sim.knobs(latency_ms=300, actions=["add", "status"])
    ids = place(world, api, "s5", orders)
    sent_before = Order.objects.filter(pk__in=ids).exclude(upstream_order_id="").count()
    world.stack.postgres.restart()
    connections.close_all()  # ours died with the server; the next query reconnects
    restarts = 1
    # Wait until forwarding is done (stuck sends reach review through the sweeper).
    drained = world.wait(
        lambda: not Order.objects.filter(pk__in=ids, status__in=("queued", "sending")).exists(),
        timeout=30 + 2 * SWEEP_SECONDS + 30,
    )
    world.sim.knobs(latency_ms=1500, actions=["status"])
    world.sim.command(finish_all=True)
    calls = world.sim.count("status")
    if world.wait(lambda: world.sim.count("status") > calls, timeout=60):
        time.sleep(0.5)
        world.stack.postgres.restart()
        connections.close_all()
        restarts += 1
    else:
        problems.append("no status sync started within 60 s")
    world.sim.calm()
    settled = world.settle(ids, timeout=150)
    ends = _ends(ids)
    problems += world.check(ids, settled=settled)
    if not drained:
        problems.append(f"left queued/sending after the sweeper: {dict(ends)}")
    if not settled:
        problems.append("orders did not settle within 150 s after the restarts")
    dead = world.stack.dead()
    if dead:
        problems.append(f"died: {', '.join(dead)}")
    statuses = world.statuses(ids)
    finished = sum(statuses[s] for s in ("completed", "partial", "canceled"))
    reached = _reached_provider(world, ids)
    figures = (
        f"{orders} orders, PostgreSQL crash-restarted {restarts}x (forwarding, with "
        f"{sent_before} sent; status sync): {finished} finished and synced, "
        f"{ends['review']} in review ({reached} of them reached the provider), "
        f"{ends['queued'] + ends['sending']} queued/sending; "
        f"processes alive: {'all' if not dead else 'not ' + ', '.join(dead)}; "
        f"{'record clean' if not problems else f'{len(problems)} problem(s)'}"
    )
    return Result(5, "PostgreSQL restarted", not problems, figures, problems)
