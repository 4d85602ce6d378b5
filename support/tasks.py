"""Celery tasks of the support app: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def ticket_notify(ticket_id: int, to_staff: bool) -> None:
    from support.notifications import ticket_notify as notify

    notify(ticket_id=ticket_id, to_staff=to_staff)
