"""The SMM API v2 actions: each reads its fields, calls one selector or service, shapes the
canonical answer. Errors are raised as ApiError(sentence) or come from the order services'
`api_error`; the endpoint turns both into `{"error": sentence}`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings

from accounts.models import User
from catalog.pricing import user_rates
from orders.api import selectors
from orders.api.formatting import (
    canonical_refill_status,
    canonical_status,
    fmt_money,
    remains_value,
)
from orders.api.v2.params import ApiError, echo_id, multi, parse_id
from orders.errors import OrderError
from orders.models import Order
from orders.services import cancel_request, order_place, refill_request
from panel.inbound import text_problem
from panel.smmapi.protocol import TYPE_SPECS, Error

Params = Mapping[str, str]
Answer = dict[str, Any] | list[Any]

# Every type-specific `add` field a service type may take; anything else in the request
# (key, action, stray fields) is not forwarded to order_place.
ADD_FIELDS = frozenset(
    name for spec in TYPE_SPECS.values() for name in (*spec.fields, *spec.optional)
) | {"quantity"}
MAX_REQUEST_ID_CHARS = 128


def services(user: User, params: Params) -> Answer:
    rows = list(selectors.services_for_sale())
    rates = user_rates(user=user, services=rows)
    return [
        {
            "service": service.pk,
            "name": service.name,
            "type": service.type,
            "category": service.category.name,
            "rate": fmt_money(rates[service.pk]),
            "min": str(service.min_quantity),
            "max": str(service.max_quantity),
            "refill": service.refill,
            "cancel": service.cancel,
            "dripfeed": service.dripfeed,
            "desc": service.description,
        }
        for service in rows
    ]


def add(user: User, params: Params) -> Answer:
    service_id = parse_id(params.get("service", ""))
    if service_id is None:
        raise ApiError(Error.INCORRECT_SERVICE)
    request_id = params.get("request_id", "").strip() or None
    if request_id is not None and (
        len(request_id) > MAX_REQUEST_ID_CHARS or text_problem(request_id)
    ):
        raise ApiError(Error.INCORRECT_REQUEST)
    fields = {name: value for name, value in params.items() if name in ADD_FIELDS}
    order = order_place(
        user=user,
        service_id=service_id,
        fields=fields,
        source=Order.Source.API_V2,
        idempotency_key=request_id,
    )
    return {"order": order.pk}


def _status_row(row: selectors.StatusRow, currency: str) -> dict[str, str]:
    remains = remains_value(
        status=row.status, remains=row.remains, quantity=row.quantity, runs=row.runs
    )
    return {
        # The net charge, like upstream panels whose `charge` drops after a partial or cancel.
        "charge": fmt_money(row.charge - row.refunded),
        "start_count": str(row.start_count or 0),
        "status": canonical_status(row.status),
        "remains": str(remains),
        "currency": currency,
    }


def status(user: User, params: Params) -> Answer:
    raw_ids = multi(params, "orders")
    if raw_ids is None:
        order_id = parse_id(params.get("order", ""))
        found = selectors.order_status_rows(user=user, ids=[order_id] if order_id else [])
        if order_id is None or order_id not in found:
            raise ApiError(Error.INCORRECT_ORDER)
        return _status_row(found[order_id], settings.PANEL_CURRENCY)
    parsed = {raw: parse_id(raw) for raw in raw_ids}
    # One query for all ids: the answer costs the same for 1 or 100 orders.
    found = selectors.order_status_rows(user=user, ids=[i for i in parsed.values() if i])
    currency = settings.PANEL_CURRENCY
    answer: dict[str, Any] = {}
    for raw, order_id in parsed.items():
        row = found.get(order_id) if order_id else None
        answer[raw] = _status_row(row, currency) if row else {"error": Error.INCORRECT_ORDER.value}
    return answer


def _each(raw_ids: list[str], act: Callable[[int], Any], missing: str) -> list[tuple[str, Any]]:
    results: list[tuple[str, Any]] = []
    for raw in raw_ids:
        item_id = parse_id(raw)
        try:
            if item_id is None:
                raise ApiError(missing)
            results.append((raw, act(item_id)))
        except ApiError as exc:
            results.append((raw, {"error": exc.sentence}))
        except OrderError as exc:
            results.append((raw, {"error": exc.api_error}))
    return results


def refill(user: User, params: Params) -> Answer:
    def request(order_id: int) -> int:
        return refill_request(user=user, order_id=order_id).pk

    raw_ids = multi(params, "orders")
    if raw_ids is None:
        order_id = parse_id(params.get("order", ""))
        if order_id is None:
            raise ApiError(Error.INCORRECT_ORDER)
        return {"refill": str(request(order_id))}
    results = _each(raw_ids, request, Error.INCORRECT_ORDER)
    return [{"order": echo_id(raw), "refill": result} for raw, result in results]


def refill_status(user: User, params: Params) -> Answer:
    raw_ids = multi(params, "refills")
    if raw_ids is None:
        refill_id = parse_id(params.get("refill", ""))
        found = selectors.refills_by_ids(user=user, ids=[refill_id] if refill_id else [])
        if refill_id is None or refill_id not in found:
            raise ApiError(Error.REFILL_NOT_FOUND)
        return {"status": canonical_refill_status(found[refill_id].status)}
    parsed = {raw: parse_id(raw) for raw in raw_ids}
    found = selectors.refills_by_ids(user=user, ids=[i for i in parsed.values() if i])
    answer: list[dict[str, Any]] = []
    for raw, refill_id in parsed.items():
        row = found.get(refill_id) if refill_id else None
        answer.append(
            {
                "refill": echo_id(raw),
                "status": canonical_refill_status(row.status)
                if row
                else {"error": Error.REFILL_NOT_FOUND.value},
            }
        )
    return answer


def cancel(user: User, params: Params) -> Answer:
    def request(order_id: int) -> int:
        cancel_request(user=user, order_id=order_id)
        return 1

    raw_ids = multi(params, "orders")
    if raw_ids is None:
        order_id = parse_id(params.get("order", ""))
        if order_id is None:
            raise ApiError(Error.INCORRECT_ORDER)
        return {"cancel": request(order_id)}
    results = _each(raw_ids, request, Error.INCORRECT_ORDER)
    return [{"order": echo_id(raw), "cancel": result} for raw, result in results]


def balance(user: User, params: Params) -> Answer:
    return {"balance": fmt_money(user.balance), "currency": settings.PANEL_CURRENCY}


ACTIONS: dict[str, Callable[[User, Params], Answer]] = {
    "services": services,
    "add": add,
    "status": status,
    "refill": refill,
    "refill_status": refill_status,
    "cancel": cancel,
    "balance": balance,
}
