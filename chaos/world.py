"""What a scenario sees: the panel's API, the simulator, a catalogue, resellers, and waiting.

``World`` is the same for the full suite (``python -m chaos``: a real worker and beat do the
background work, ``drive()`` only waits) and for the short versions under ``tests/chaos``
(``drive()`` runs the same tasks in-process, the way the test suite calls tasks).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.services import api_key_rotate, balance_credit
from catalog.models import Provider, Service
from catalog.services import provider_create, provider_sync_catalogue
from chaos.checks import ledger_problems, record_problems
from chaos.clients import ResellerApi, SimControl
from orders.models import Order
from orders.services import order_quote
from orders.states import POLLABLE

QUANTITY = 100
_serial = itertools.count(1)


@dataclass
class Result:
    number: int
    title: str
    passed: bool
    figures: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"[{verdict}] {self.number}. {self.title}: {self.figures} ({self.seconds:.0f} s)"


class World:
    """The system under test, as scenarios use it. Subclasses say how background work runs."""

    def __init__(self, *, api_url: str, web_url: str, sim_url: str, sim_key: str) -> None:
        self.api_url = api_url
        self.web_url = web_url
        self.sim = SimControl(sim_url)
        self.provider, self.service = prepare_catalogue(f"{sim_url}/api/v2", sim_key)
        self.apis: list[ResellerApi] = []
        # Upstream ids the provider purged, and our orders it gave impossible final numbers,
        # on purpose (scenario 6); every later check holds them to their own rules.
        self.forgotten: set[str] = set()
        self.unsettleable: set[int] = set()

    # --- background work ---------------------------------------------------------------------

    def drive(self) -> None:
        """Give the panel's background work (forwarding, sweeper, status sync) a moment."""
        raise NotImplementedError

    def wait(self, condition: Callable[[], bool], *, timeout: float) -> bool:
        """Drive until ``condition()`` holds; False if it still does not after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self.drive()
        return True

    def settle(self, order_ids: Collection[int], *, timeout: float) -> bool:
        """Let the orders go out, have the provider finish everything, and wait until status
        sync has seen the final states. Orders deferred by more than a minute on purpose
        ("active order on the link" is retried after minutes) are not waited for."""
        ids = list(order_ids)

        def done() -> bool:
            if self.forwarding(ids):
                return False
            self.sim.command(finish_all=True)
            return (
                not Order.objects.filter(pk__in=ids, status__in=POLLABLE)
                .exclude(upstream_order_id__in=self.forgotten)
                .exists()
            )

        return self.wait(done, timeout=timeout)

    @staticmethod
    def forwarding(order_ids: Collection[int]) -> bool:
        """Whether any of the orders is being sent or waits for a retry due within a minute."""
        later = timezone.now() + dt.timedelta(seconds=60)
        orders = Order.objects.filter(pk__in=list(order_ids))
        if orders.filter(status=Order.Status.SENDING).exists():
            return True
        return orders.filter(status=Order.Status.QUEUED).exclude(next_attempt_at__gt=later).exists()

    # --- people and orders -------------------------------------------------------------------

    def reseller(self, balance: Decimal) -> tuple[User, ResellerApi]:
        user = User.objects.create_user(
            f"chaos-{next(_serial)}-{uuid.uuid4().hex[:6]}@example.com",
            role=User.Role.RESELLER,
        )
        if balance > 0:
            balance_credit(user=user, amount=balance, kind=LedgerEntry.Kind.DEPOSIT)
        api = ResellerApi(self.api_url, api_key_rotate(user=user))
        self.apis.append(api)
        return user, api

    def charge_of(self, user: User) -> Decimal:
        """What one order of QUANTITY units costs this user (the panel's own quote)."""
        return order_quote(
            user=user,
            service_id=self.service.pk,
            fields={"link": "https://example.com/quote", "quantity": str(QUANTITY)},
        )

    @staticmethod
    def link(tag: str) -> str:
        return f"https://example.com/chaos/{tag}/{uuid.uuid4().hex}"

    def add(self, api: ResellerApi, tag: str) -> object:
        return api.add(service=self.service.pk, link=self.link(tag), quantity=QUANTITY)

    @staticmethod
    def statuses(order_ids: Iterable[int]) -> Counter[str]:
        return Counter(
            Order.objects.filter(pk__in=list(order_ids)).values_list("status", flat=True)
        )

    # --- the verdict -------------------------------------------------------------------------

    def check(self, order_ids: Collection[int], *, settled: bool) -> list[str]:
        """``check_ledger`` plus the orders against the simulator's record; ``settled``: they
        must already be in sync with the provider's final states."""
        return ledger_problems() + record_problems(
            self.sim.record(),
            scope=order_ids,
            settled=settled,
            forgotten=self.forgotten,
            unsettleable=self.unsettleable,
        )

    def close(self) -> None:
        for api in self.apis:
            api.close()
        self.sim.close()


def prepare_catalogue(api_url: str, key: str) -> tuple[Provider, Service]:
    """Register the simulator as a provider, sync its catalogue, and enable one Default service
    that takes QUANTITY units."""
    provider = provider_create(
        name=f"Chaos simulator {uuid.uuid4().hex[:6]}", api_url=api_url, api_key=key
    )
    result = provider_sync_catalogue(provider_id=provider.pk)
    if not result.received:
        raise RuntimeError(f"catalogue sync from {api_url} received nothing: {result}")
    service = (
        Service.objects.filter(
            provider=provider,
            type="Default",
            min_quantity__lte=QUANTITY,
            max_quantity__gte=QUANTITY,
            # Dear enough that a partial refund of a few units is not rounded away.
            upstream_rate__gte=Decimal("0.5"),
        )
        .order_by("upstream_rate", "id")
        .first()
    )
    if service is None:
        raise RuntimeError("the simulator's catalogue has no Default service for 100 units")
    Service.objects.filter(pk=service.pk).update(is_enabled=True)
    service.refresh_from_db()
    return provider, service
