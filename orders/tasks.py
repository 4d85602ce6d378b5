"""Celery tasks: thin wrappers taking ids. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def forward_order(order_id: int) -> None:
    from orders.services.forwarding import order_forward

    order_forward(order_id=order_id)


@shared_task(ignore_result=True)
def forward_refill(refill_id: int) -> None:
    pass


@shared_task(ignore_result=True)
def forward_cancel(order_id: int) -> None:
    pass
