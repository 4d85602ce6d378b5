"""The simulated provider's in-memory store: catalogue, balance, orders, refills, clock, counts.

Everything is guarded by one lock; the HTTP threads and the test thread share it. Time is a
private clock that tests move with ``advance()``; due transitions are applied lazily, from a
heap of events, at the start of every operation.
"""

from __future__ import annotations

import heapq
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from panel.smmapi.protocol import Error, RefillStatus, ServiceType, Status

from .catalogue import SimService, generate_catalogue
from .knobs import FaultPlan, Knobs, parse_bool, roll_faults
from .money import ZERO, fmt_money, money, refund_of
from .validation import ApiError, parse_add, parse_int

ACTIVE_STATUSES = frozenset(
    {Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING, Status.ACTIVE, Status.PAUSED}
)
# Provider ids start far from 1 so that a test mixing up panel and provider ids fails loudly.
FIRST_ORDER_ID = 50_001
FIRST_REFILL_ID = 7_001
# Share of ``speed`` an order spends Pending before it starts.
_PENDING_SHARE = 0.25


@dataclass
class SimOrder:
    id: int
    service_id: int
    type: ServiceType
    link: str  # the username for Subscriptions
    quantity: int  # total units (quantity x runs; posts for Subscriptions; 1 for Package)
    charge: Decimal
    created_at: float
    starts_at: float
    finishes_at: float
    fate: Status  # the status it ends in if nobody intervenes
    fate_remains: int
    start_count: int
    refill_allowed: bool
    cancel_allowed: bool
    status: str = Status.PENDING
    remains: int = 0
    refunded: Decimal = ZERO
    manual: bool = False  # set_order() took over: time no longer moves it
    runs: int | None = None
    interval: int | None = None
    fields: dict[str, str] = field(default_factory=dict)
    # Subscriptions: posts delivered as steered by set_order(posts=...); None = from remains.
    posts: int | None = None


@dataclass
class SimRefill:
    id: int
    order_id: int
    created_at: float
    starts_at: float
    finishes_at: float
    fate: RefillStatus
    status: str = RefillStatus.PENDING
    manual: bool = False


class SimState:
    """The provider's state. Safe to use from any thread."""

    def __init__(
        self,
        *,
        services: int | Iterable[SimService] = 50,
        seed: int = 0,
        key: str = "sim-key",
        balance: Decimal | str | int = "1000.00",
        knobs: Knobs | Mapping[str, object] | None = None,
        frozen_clock: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.key = key
        self.seed = seed
        if isinstance(knobs, Knobs):
            self.knobs = knobs
        else:
            self.knobs = Knobs()
            self.knobs.update(knobs or {})
        catalogue = (
            generate_catalogue(services, seed=seed) if isinstance(services, int) else services
        )
        self._services = {service.id: service for service in catalogue}
        self._rows: list[dict[str, object]] | None = None
        self._initial_balance = money(balance)
        self._balance = self._initial_balance
        # Separate generators, so that injecting faults does not change order fates.
        self._fate_rng = random.Random(seed)  # noqa: S311 - a simulation, not security
        self._fault_rng = random.Random(seed + 1)  # noqa: S311
        self._frozen = frozen_clock
        self._t0 = time.monotonic()
        self._offset = 0.0
        self._orders: dict[int, SimOrder] = {}
        self._refills: dict[int, SimRefill] = {}
        self._active_links: dict[tuple[int, str], int] = {}
        self._events: list[tuple[float, int, str, int]] = []
        self._seq = 0
        self._next_order_id = FIRST_ORDER_ID
        self._next_refill_id = FIRST_REFILL_ID
        self._counts: Counter[str] = Counter()

    # --- clock -------------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds on the simulator's clock (real time unless frozen, plus ``advance()``)."""
        real = 0.0 if self._frozen else time.monotonic() - self._t0
        return real + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward and apply every transition that became due."""
        with self.lock:
            self._offset += seconds
            self._tick()

    def finish_all(self) -> None:
        """Bring every order and refill to its final status now (the clock does not move)."""
        with self.lock:
            self._tick(until=math.inf)

    # --- knobs, counts, balance --------------------------------------------------------------

    def set_knobs(self, **changes: object) -> None:
        """Change knobs at run time, e.g. ``set_knobs(timeout_rate=1, actions=["add"])``."""
        with self.lock:
            self.knobs.update(changes)

    def plan_faults(self, action: str) -> tuple[FaultPlan, random.Random]:
        """Roll the faults of one request; also return a generator for its odd spellings."""
        with self.lock:
            plan = roll_faults(self.knobs, action, self._fault_rng)
            return plan, random.Random(self._fault_rng.random())  # noqa: S311

    def count(self, action: str) -> None:
        with self.lock:
            self._counts[action] += 1

    @property
    def counts(self) -> Counter[str]:
        """Requests received, by action (a copy; missing actions read as 0)."""
        with self.lock:
            return Counter(self._counts)

    def reset_counts(self) -> None:
        with self.lock:
            self._counts.clear()

    @property
    def balance(self) -> Decimal:
        with self.lock:
            self._tick()
            return self._balance

    def set_balance(self, amount: Decimal | str | int) -> None:
        with self.lock:
            self._balance = money(amount)

    def reset(self) -> None:
        """Forget orders, refills and counts; restore the starting balance. Ids keep growing."""
        with self.lock:
            self._orders.clear()
            self._refills.clear()
            self._active_links.clear()
            self._events.clear()
            self._counts.clear()
            self._balance = self._initial_balance

    # --- catalogue -----------------------------------------------------------------------------

    def services(self) -> list[SimService]:
        with self.lock:
            return list(self._services.values())

    def service(self, service_id: int) -> SimService | None:
        with self.lock:
            return self._services.get(service_id)

    def service_rows(self) -> list[dict[str, object]]:
        """The ``services`` answer; cached because a benchmark catalogue has 10,000 rows."""
        with self.lock:
            if self._rows is None:
                self._rows = [service.row() for service in self._services.values()]
            return self._rows

    def add_service(
        self,
        *,
        name: str,
        type: ServiceType | str = ServiceType.DEFAULT,
        category: str = "Simulator",
        rate: Decimal | str | int = "1.00",
        min: int = 10,
        max: int = 10_000,
        refill: bool = False,
        cancel: bool = False,
        dripfeed: bool = False,
        desc: str = "",
        id: int | None = None,
    ) -> SimService:
        """Add a service (the next free id unless given; an existing id is replaced)."""
        service_type = ServiceType.parse(type)
        if service_type is None:
            raise ValueError(f"Unknown service type: {type}")
        with self.lock:
            service_id = id if id is not None else self._free_service_id()
            service = SimService(
                id=service_id,
                name=name,
                type=service_type,
                category=category,
                rate=money(rate),
                min=int(min),
                max=int(max),
                refill=parse_bool(refill),
                cancel=parse_bool(cancel),
                dripfeed=parse_bool(dripfeed),
                desc=desc,
            )
            self._services[service_id] = service
            self._rows = None
            return service

    def _free_service_id(self) -> int:
        return max(self._services, default=0) + 1

    def update_service(self, service_id: int, **changes: object) -> SimService:
        """Change fields of a service, e.g. ``update_service(3, rate="2.50", refill=False)``."""
        with self.lock:
            current = self._services.get(service_id)
            if current is None:
                raise KeyError(service_id)
            # Loosely typed input (JSON from /_control) is coerced to the field types.
            changes.pop("id", None)
            if "rate" in changes:
                changes["rate"] = money(str(changes["rate"]))
            if "type" in changes:
                service_type = ServiceType.parse(changes["type"])
                if service_type is None:
                    raise ValueError(f"Unknown service type: {changes['type']}")
                changes["type"] = service_type
            for name in ("min", "max"):
                if name in changes:
                    changes[name] = int(str(changes[name]))
            for name in ("refill", "cancel", "dripfeed"):
                if name in changes:
                    changes[name] = parse_bool(changes[name])
            updated = replace(current, **changes)  # type: ignore[arg-type]
            self._services[service_id] = updated
            self._rows = None
            return updated

    def remove_service(self, service_id: int) -> None:
        with self.lock:
            self._services.pop(service_id, None)
            self._rows = None

    # --- inspection and steering of orders ---------------------------------------------------

    def order(self, order_id: int) -> SimOrder:
        with self.lock:
            self._tick()
            order = self._orders[order_id]
            order.remains = self._remains(order)
            return order

    def orders(self) -> list[SimOrder]:
        with self.lock:
            self._tick()
            return list(self._orders.values())

    def refill(self, refill_id: int) -> SimRefill:
        with self.lock:
            self._tick()
            return self._refills[refill_id]

    def refills(self) -> list[SimRefill]:
        with self.lock:
            self._tick()
            return list(self._refills.values())

    def set_order(
        self,
        order_id: int,
        *,
        status: str | None = None,
        remains: int | None = None,
        start_count: int | None = None,
        posts: int | None = None,
    ) -> SimOrder:
        """Force an order's status (any string, e.g. "Refunded"), remains, start count and, for
        a subscription, the posts delivered (an unlimited one has no other way to grow).

        The order stops moving with time. Partial, Expired and Canceled refund the provider
        balance (once: a later, larger refund only adds the difference).
        """
        with self.lock:
            self._tick()
            order = self._orders[order_id]
            order.remains = self._remains(order)
            order.manual = True
            if start_count is not None:
                order.start_count = start_count
            if posts is not None:
                order.posts = posts
            if status is not None:
                canonical = _canonical(status)
                if remains is None:
                    remains = _default_remains(order, canonical)
                self._set_status(order, canonical or status, remains)
            elif remains is not None:
                order.remains = remains
            return order

    def set_refill(self, refill_id: int, *, status: str) -> SimRefill:
        with self.lock:
            self._tick()
            refill = self._refills[refill_id]
            refill.manual = True
            refill.status = _canonical_refill(status) or status
            return refill

    # --- the actions ---------------------------------------------------------------------------

    def place_order(self, params: Mapping[str, str]) -> int:
        """Validate and store an ``add``; deduct its charge from the balance."""
        with self.lock:
            self._tick()
            service_id = parse_int(params.get("service"))
            service = self._services.get(service_id) if service_id is not None else None
            if service is None:
                raise ApiError(Error.INCORRECT_SERVICE)
            request = parse_add(service, params)
            link_key = (service.id, request.link)
            if self.knobs.check_duplicate_links and link_key in self._active_links:
                raise ApiError(Error.ACTIVE_ORDER)
            if request.charge > self._balance:
                raise ApiError(Error.NOT_ENOUGH_FUNDS)
            self._balance -= request.charge

            now, speed = self.now(), self.knobs.speed
            fate, fate_remains = self._roll_fate(request.quantity)
            order = SimOrder(
                id=self._next_order_id,
                service_id=service.id,
                type=service.type,
                link=request.link,
                quantity=request.quantity,
                charge=request.charge,
                created_at=now,
                starts_at=now + speed * _PENDING_SHARE,
                finishes_at=now + speed,
                fate=fate,
                fate_remains=fate_remains,
                start_count=self._fate_rng.randint(0, 5000),
                refill_allowed=service.refill,
                cancel_allowed=service.cancel,
                remains=request.quantity,
                runs=request.runs,
                interval=request.interval,
                fields=request.fields,
            )
            self._next_order_id += 1
            self._orders[order.id] = order
            self._active_links[link_key] = order.id
            self._schedule(order.starts_at, "order_start", order.id)
            self._schedule(order.finishes_at, "order_finish", order.id)
            return order.id

    def order_status(self, raw_id: str) -> dict[str, str]:
        with self.lock:
            self._tick()
            order = self._lookup_order(raw_id)
            answer = {
                # What it billed after its own refund (a Partial's charge drops, as upstream).
                "charge": fmt_money(order.charge - order.refunded),
                "start_count": "0" if order.status == Status.PENDING else str(order.start_count),
                "status": order.status,
                "remains": str(self._remains(order)),
                "currency": "USD",
            }
            if order.type is ServiceType.SUBSCRIPTIONS:
                delivered = order.posts
                if delivered is None:
                    delivered = order.quantity - self._remains(order)
                answer["posts"] = str(delivered)
            return answer

    def create_refill(self, raw_id: str) -> int:
        with self.lock:
            self._tick()
            order = self._lookup_order(raw_id)
            service = self._services.get(order.service_id)
            allowed = service.refill if service is not None else order.refill_allowed
            if not allowed or order.status != Status.COMPLETED:
                raise ApiError(Error.REFILL_NOT_AVAILABLE)
            if any(
                refill.order_id == order.id and refill.status in _ACTIVE_REFILL
                for refill in self._refills.values()
            ):
                raise ApiError(Error.REFILL_NOT_AVAILABLE)
            now, speed = self.now(), self.knobs.speed
            rejected = self._fate_rng.random() < self.knobs.refill_reject_share
            refill = SimRefill(
                id=self._next_refill_id,
                order_id=order.id,
                created_at=now,
                starts_at=now + speed * _PENDING_SHARE,
                finishes_at=now + speed,
                fate=RefillStatus.REJECTED if rejected else RefillStatus.COMPLETED,
            )
            self._next_refill_id += 1
            self._refills[refill.id] = refill
            self._schedule(refill.starts_at, "refill_start", refill.id)
            self._schedule(refill.finishes_at, "refill_finish", refill.id)
            return refill.id

    def refill_status(self, raw_id: str) -> str:
        with self.lock:
            self._tick()
            refill_id = parse_int(raw_id)
            refill = self._refills.get(refill_id) if refill_id is not None else None
            if refill is None:
                raise ApiError(Error.REFILL_NOT_FOUND)
            return refill.status

    def cancel_order(self, raw_id: str) -> None:
        """Cancel now: Canceled with a full refund, or Partial if delivery already began."""
        with self.lock:
            self._tick()
            order = self._lookup_order(raw_id)
            service = self._services.get(order.service_id)
            allowed = service.cancel if service is not None else order.cancel_allowed
            if not allowed or order.status not in ACTIVE_STATUSES:
                raise ApiError(Error.CANNOT_CANCEL)
            remains = self._remains(order)
            order.manual = True
            if remains >= order.quantity:
                self._set_status(order, Status.CANCELED, order.quantity)
            else:
                self._set_status(order, _partial_for(order), remains)

    def forget_order(self, order_id: int) -> None:
        """Drop an order, as providers purge old ones: its id answers "Incorrect order ID"."""
        with self.lock:
            order = self._orders.pop(order_id)
            link_key = (order.service_id, order.link)
            if self._active_links.get(link_key) == order_id:
                del self._active_links[link_key]

    def record(self) -> list[dict[str, object]]:
        """Every order held, as ``GET /_control/orders`` shows it: what a checker compares
        with the panel's own records (each panel order sent once, each order here the panel's)."""
        with self.lock:
            self._tick()
            return [
                {
                    "id": order.id,
                    "service": order.service_id,
                    "link": order.link,
                    "quantity": order.quantity,
                    "charge": fmt_money(order.charge),
                    "status": order.status,
                    "remains": self._remains(order),
                    "refunded": fmt_money(order.refunded),
                }
                for order in self._orders.values()
            ]

    def snapshot(self) -> dict[str, object]:
        """What ``GET /_control`` shows."""
        with self.lock:
            self._tick()
            return {
                "counts": dict(self._counts),
                "knobs": self.knobs.as_dict(),
                "balance": fmt_money(self._balance),
                "orders": len(self._orders),
                "refills": len(self._refills),
                "services": len(self._services),
                "clock": round(self.now(), 3),
            }

    # --- internals -----------------------------------------------------------------------------

    def _lookup_order(self, raw_id: str) -> SimOrder:
        prefix = self.knobs.order_id_prefix
        if prefix and raw_id.startswith(prefix):
            raw_id = raw_id[len(prefix) :]
        order_id = parse_int(raw_id)
        order = self._orders.get(order_id) if order_id is not None else None
        if order is None:
            raise ApiError(Error.INCORRECT_ORDER)
        return order

    def _roll_fate(self, quantity: int) -> tuple[Status, int]:
        roll = self._fate_rng.random()
        if roll < self.knobs.cancel_share:
            return Status.CANCELED, quantity
        if roll < self.knobs.cancel_share + self.knobs.partial_share and quantity >= 2:
            return Status.PARTIAL, self._fate_rng.randint(1, quantity - 1)
        return Status.COMPLETED, 0

    def _schedule(self, due: float, kind: str, target: int) -> None:
        self._seq += 1
        heapq.heappush(self._events, (due, self._seq, kind, target))

    def _tick(self, until: float | None = None) -> None:
        limit = self.now() if until is None else until
        while self._events and self._events[0][0] <= limit:
            _due, _seq, kind, target = heapq.heappop(self._events)
            if kind.startswith("order_"):
                order = self._orders.get(target)
                if order is not None and not order.manual:
                    self._move_order(order, kind)
            else:
                refill = self._refills.get(target)
                if refill is not None and not refill.manual:
                    self._move_refill(refill, kind)

    def _move_order(self, order: SimOrder, kind: str) -> None:
        if kind == "order_start" and order.status == Status.PENDING:
            if order.fate == Status.CANCELED:
                self._set_status(order, Status.CANCELED, order.quantity)
            elif order.type is ServiceType.SUBSCRIPTIONS:
                order.status = Status.ACTIVE
            else:
                order.status = Status.IN_PROGRESS
        elif kind == "order_finish" and order.status in (Status.IN_PROGRESS, Status.ACTIVE):
            if order.fate == Status.PARTIAL:
                self._set_status(order, _partial_for(order), order.fate_remains)
            else:
                self._set_status(order, Status.COMPLETED, 0)

    def _move_refill(self, refill: SimRefill, kind: str) -> None:
        if kind == "refill_start" and refill.status == RefillStatus.PENDING:
            refill.status = RefillStatus.IN_PROGRESS
        elif kind == "refill_finish" and refill.status == RefillStatus.IN_PROGRESS:
            refill.status = refill.fate

    def _remains(self, order: SimOrder) -> int:
        """Remains now: delivery runs linearly from start to finish towards the fate."""
        if order.manual or order.status not in (Status.IN_PROGRESS, Status.ACTIVE):
            return order.remains
        span = order.finishes_at - order.starts_at
        progress = 1.0 if span <= 0 else min(1.0, (self.now() - order.starts_at) / span)
        target = order.quantity - order.fate_remains
        return order.quantity - math.floor(target * max(progress, 0.0))

    def _set_status(self, order: SimOrder, status: str, remains: int) -> None:
        order.status = status
        order.remains = remains
        link_key = (order.service_id, order.link)
        if status in ACTIVE_STATUSES:
            self._active_links[link_key] = order.id
        elif self._active_links.get(link_key) == order.id:
            del self._active_links[link_key]
        # Refund what the final status owes, minus what was already refunded: a refund
        # happens once however many times an order is moved.
        if status == Status.CANCELED:
            owed = order.charge
        elif status in (Status.PARTIAL, Status.EXPIRED) and order.quantity > 0:
            share = min(max(remains, 0), order.quantity)
            owed = refund_of(order.charge * share / order.quantity)
        else:
            owed = ZERO
        if owed > order.refunded:
            self._balance += owed - order.refunded
            order.refunded = owed


_ACTIVE_REFILL = frozenset({RefillStatus.PENDING, RefillStatus.IN_PROGRESS})
_STATUS_BY_KEY = {"".join(filter(str.isalnum, s.lower())): s for s in Status}
_STATUS_BY_KEY["cancelled"] = Status.CANCELED
_REFILL_BY_KEY = {"".join(filter(str.isalnum, s.lower())): s for s in RefillStatus}


def _canonical(status: str) -> Status | None:
    return _STATUS_BY_KEY.get("".join(filter(str.isalnum, status.lower())))


def _canonical_refill(status: str) -> RefillStatus | None:
    return _REFILL_BY_KEY.get("".join(filter(str.isalnum, status.lower())))


def _partial_for(order: SimOrder) -> Status:
    return Status.EXPIRED if order.type is ServiceType.SUBSCRIPTIONS else Status.PARTIAL


def _default_remains(order: SimOrder, status: Status | None) -> int:
    if status in (Status.COMPLETED,):
        return 0
    if status == Status.CANCELED:
        return order.quantity
    if status in (Status.PARTIAL, Status.EXPIRED):
        return order.remains if 0 < order.remains < order.quantity else order.quantity // 2
    return order.remains
