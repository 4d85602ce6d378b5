"""Celery tasks of the console: thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from console.services import notification_deliver, notifications_deliver_pending
from console.services.checks import review_queue_notify


@shared_task(ignore_result=True)
def deliver_notification(notification_id: int) -> None:
    notification_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def deliver_pending_notifications() -> None:
    notifications_deliver_pending()


@shared_task(ignore_result=True)
def notify_review_queue() -> None:
    review_queue_notify()
