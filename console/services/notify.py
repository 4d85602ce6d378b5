"""Operator notifications: stored in the inbox first, then sent by email and Telegram.

Storing comes first and happens in the caller's transaction, so an alert exists as soon as
the event does, whatever SMTP or Telegram are doing. Sending happens after commit in a Celery
task with no transaction open; a channel that fails stays ``failed`` and the periodic
``deliver_pending`` task tries it again, so nothing is lost while a channel is down.

Throttling: a second alert of the same kind about the same subject (a provider, an order…)
within ``CONSOLE_NOTIFY_THROTTLE_SECONDS`` of the first bumps the first row's ``repeats``
instead of sending again, so a flapping provider sends one message, not hundreds.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from console import telegram
from console.models import Notification

logger = logging.getLogger("console.notify")

Delivery = Notification.Delivery
Kind = Notification.Kind
# Give up on a channel after this many tries (about a day with the sweeper's backoff).
MAX_ATTEMPTS = 20
RETRY_WITHIN = dt.timedelta(days=2)


def _email_recipients() -> list[str]:
    return [email for _name, email in settings.ADMINS]


def notify(
    *, kind: str, subject_key: str, title: str, body: str = "", link: str = ""
) -> Notification:
    """Store an alert for the operators and send it after commit (unless throttled)."""
    now = timezone.now()
    window = now - dt.timedelta(seconds=settings.CONSOLE_NOTIFY_THROTTLE_SECONDS)
    with transaction.atomic():
        recent = (
            Notification.objects.select_for_update()
            .filter(kind=kind, subject_key=subject_key, created_at__gte=window)
            .order_by("-id")
            .first()
        )
        if recent is not None:
            Notification.objects.filter(pk=recent.pk).update(
                repeats=F("repeats") + 1, last_seen_at=now, body=body or recent.body
            )
            recent.refresh_from_db()
            return recent
        notification = Notification.objects.create(
            kind=kind,
            subject_key=subject_key[:64],
            title=title[:255],
            body=body,
            link=link[:500],
            last_seen_at=now,
            email_status=Delivery.PENDING if _email_recipients() else Delivery.OFF,
            telegram_status=Delivery.PENDING if telegram.configured() else Delivery.OFF,
        )
        if notification.email_status == Delivery.PENDING or (
            notification.telegram_status == Delivery.PENDING
        ):
            transaction.on_commit(lambda: _enqueue(notification.pk))
    return notification


def _enqueue(notification_id: int) -> None:
    from console.tasks import deliver_notification

    try:
        deliver_notification.delay(notification_id)
    except Exception:  # the broker is down: the sweeper sends it later, the inbox has it
        logger.exception("Could not queue notification %s", notification_id)


def _text(notification: Notification) -> str:
    lines = [notification.title]
    if notification.body:
        lines.append(notification.body)
    if notification.link:
        lines.append(settings.PANEL_BASE_URL.rstrip("/") + notification.link)
    return "\n\n".join(lines)


def notification_deliver(*, notification_id: int) -> bool:
    """Send the channels still pending or failed; True when nothing is left to send.

    The attempt counter is claimed with a conditional UPDATE first, so two workers handed the
    same notification do not both send it.
    """
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return True
    waiting = (Delivery.PENDING, Delivery.FAILED)
    channels = [
        name for name in ("email", "telegram") if getattr(notification, f"{name}_status") in waiting
    ]
    if not channels:
        return True
    claimed = Notification.objects.filter(
        pk=notification_id, attempts=notification.attempts
    ).update(attempts=notification.attempts + 1)
    if claimed != 1:
        return False  # another worker is sending it right now
    text = _text(notification)
    statuses: dict[str, str] = {}
    errors: list[str] = []
    if "email" in channels:
        try:
            send_mail(
                f"[{settings.PANEL_NAME}] {notification.title}",
                text,
                settings.DEFAULT_FROM_EMAIL,
                _email_recipients(),
                fail_silently=False,
            )
        except Exception as exc:  # any SMTP or connection error: retried by the sweeper
            logger.warning("Email of notification %s failed: %s", notification_id, exc)
            statuses["email_status"] = Delivery.FAILED
            errors.append(f"email: {exc}")
        else:
            statuses["email_status"] = Delivery.SENT
    if "telegram" in channels:
        try:
            telegram.send(text=text)
        except telegram.TelegramError as exc:
            logger.warning("Telegram of notification %s failed: %s", notification_id, exc)
            statuses["telegram_status"] = Delivery.FAILED
            errors.append(f"telegram: {exc}")
        else:
            statuses["telegram_status"] = Delivery.SENT
    Notification.objects.filter(pk=notification_id).update(last_error="\n".join(errors), **statuses)
    return not errors


def notifications_deliver_pending(*, now: dt.datetime | None = None) -> int:
    """Retry every recent notification with a channel still pending or failed."""
    now = now or timezone.now()
    waiting = (Delivery.PENDING, Delivery.FAILED)
    ids = list(
        Notification.objects.filter(
            Q(email_status__in=waiting) | Q(telegram_status__in=waiting),
            created_at__gte=now - RETRY_WITHIN,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("pk")  # oldest first, in the order the events happened
        .values_list("pk", flat=True)[:200]
    )
    return sum(1 for pk in ids if notification_deliver(notification_id=pk))


def notifications_mark_read(*, ids: list[int]) -> int:
    """Mark inbox rows read; returns how many changed."""
    return Notification.objects.filter(pk__in=ids, read_at__isnull=True).update(
        read_at=timezone.now()
    )
