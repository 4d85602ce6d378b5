"""Scenario 1: a burst of concurrent ``add`` requests from one reseller who can afford a few."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection

from accounts.models import LedgerEntry, User
from accounts.services import balance_credit
from chaos.world import Result, World
from panel.money import money
from panel.smmapi.protocol import Error


def concurrent_adds(world: World, *, requests: int = 200, affordable: int = 57) -> Result:
    """``requests`` adds at once; the balance covers ``affordable`` orders and half of one more.

    Exactly ``affordable`` are accepted, every other answer is "Not enough funds on balance",
    the balance never goes below 0 and ends at the start minus the accepted charges.
    """
    user, api = world.reseller(Decimal(0))
    charge = world.charge_of(user)
    start = money(charge * affordable + charge / 2)
    balance_credit(user=user, amount=start, kind=LedgerEntry.Kind.DEPOSIT)

    lowest = [start]
    stop = threading.Event()

    def watch() -> None:
        try:
            while not stop.is_set():
                balance = User.objects.filter(pk=user.pk).values_list("balance", flat=True).get()
                lowest[0] = min(lowest[0], balance)
                stop.wait(0.02)
        finally:
            connection.close()  # this thread's own connection

    barrier = threading.Barrier(requests)

    def one(i: int) -> object:
        barrier.wait(timeout=60)
        return world.add(api, f"s1-{i}")

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=requests) as pool:
        answers = list(pool.map(one, range(requests)))
    stop.set()
    watcher.join()

    accepted = [a for a in answers if isinstance(a, dict) and "order" in a]
    no_funds = [a for a in answers if a == {"error": Error.NOT_ENOUGH_FUNDS}]
    other = [a for a in answers if a not in accepted and a not in no_funds]
    user.refresh_from_db()
    charges = LedgerEntry.objects.filter(user=user, kind=LedgerEntry.Kind.ORDER_CHARGE).count()
    ids = [int(a["order"]) for a in accepted]
    settled = world.settle(ids, timeout=120)
    problems = world.check(ids, settled=settled)
    if len(accepted) != affordable:
        problems.append(f"{len(accepted)} accepted, expected {affordable}")
    if other:
        problems.append(f"{len(other)} other answers, e.g. {other[0]!r}")
    if user.balance != start - charge * affordable or charges != affordable:
        problems.append(f"balance {user.balance} after {charges} charges of {charge}")
    if min(lowest[0], user.balance) < 0:
        problems.append(f"balance went to {lowest[0]}")
    if not settled:
        problems.append("orders did not settle")
    figures = (
        f"{requests} concurrent adds, balance for {affordable}: {len(accepted)} accepted, "
        f'{len(no_funds)} "Not enough funds on balance", {len(other)} other; '
        f"lowest balance {lowest[0]:.5f}, final {user.balance:.5f} "
        f"(= start - {charges} x {charge}); {_verdict(problems)}"
    )
    return Result(1, "concurrent adds", not problems, figures, problems)


def _verdict(problems: list[str]) -> str:
    return "ledger and record clean" if not problems else f"{len(problems)} problem(s)"
