import datetime as dt
import smtplib
from unittest import mock

import httpx
import pytest
import respx
from django.core import mail
from django.utils import timezone

from console import telegram
from console.models import Notification
from console.services import notification_deliver, notifications_deliver_pending, notify

TOKEN = "123456:telegram-secret-token"
SEND_URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


@pytest.fixture
def channels(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_CHAT_ID = "-1001"
    settings.TELEGRAM_API_URL = "https://api.telegram.org"
    settings.CONSOLE_NOTIFY_THROTTLE_SECONDS = 3600


def paused(**extra):
    return notify(
        kind=Notification.Kind.PROVIDER_PAUSED,
        subject_key="provider:7",
        title="Provider Fast paused: Not enough funds",
        body="Orders stay queued.",
        link="/admin/catalog/provider/7/change/",
        **extra,
    )


def test_it_stores_first_and_sends_only_after_commit(
    db, channels, django_capture_on_commit_callbacks
):
    with mock.patch("console.tasks.deliver_notification.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            notification = paused()
        assert Notification.objects.get().title == "Provider Fast paused: Not enough funds"
        assert delay.call_count == 0  # nothing leaves before the data is committed
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(notification.pk)


@respx.mock
def test_it_sends_email_and_telegram(db, channels):
    route = respx.post(SEND_URL).mock(return_value=httpx.Response(200, json={"ok": True}))
    notification = paused()

    assert notification_deliver(notification_id=notification.pk) is True

    notification.refresh_from_db()
    assert (notification.email_status, notification.telegram_status) == ("sent", "sent")
    assert [(m.subject, m.to) for m in mail.outbox] == [
        ("[Upline] Provider Fast paused: Not enough funds", ["ops@example.com"])
    ]
    payload = route.calls.last.request.read().decode()
    assert '"chat_id":"-1001"' in payload.replace(" ", "")
    assert "http://localhost:8000/admin/catalog/provider/7/change/" in payload


@respx.mock
def test_it_throttles_a_flapping_subject_into_one_message(db, channels):
    route = respx.post(SEND_URL).mock(return_value=httpx.Response(200, json={"ok": True}))
    for _ in range(50):
        paused()
    notifications_deliver_pending()

    notification = Notification.objects.get()
    assert notification.repeats == 50
    assert len(mail.outbox) == 1
    assert route.call_count == 1


def test_it_sends_again_after_the_throttle_window(db, channels):
    first = paused()
    Notification.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    second = paused()
    assert second.pk != first.pk
    assert Notification.objects.count() == 2


@respx.mock
def test_it_keeps_the_alert_and_retries_while_smtp_and_telegram_are_down(db, channels):
    route = respx.post(SEND_URL).mock(side_effect=httpx.ConnectError("refused"))
    notification = paused()
    with mock.patch(
        "console.services.notify.send_mail", side_effect=smtplib.SMTPException("SMTP is down")
    ):
        assert notification_deliver(notification_id=notification.pk) is False

    notification.refresh_from_db()
    assert (notification.email_status, notification.telegram_status) == ("failed", "failed")
    assert "SMTP is down" in notification.last_error
    assert TOKEN not in notification.last_error  # the bot token is part of the URL

    route.mock(return_value=httpx.Response(200, json={"ok": True}))
    assert notifications_deliver_pending() == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.telegram_status) == ("sent", "sent")
    assert notification.attempts == 2
    assert len(mail.outbox) == 1


@respx.mock
def test_it_reports_a_telegram_refusal(db, channels):
    respx.post(SEND_URL).mock(
        return_value=httpx.Response(400, json={"ok": False, "description": "chat not found"})
    )
    with pytest.raises(telegram.TelegramError) as exc:
        telegram.send(text="hello")
    assert str(exc.value) == "Telegram refused the message: HTTP 400 chat not found"


def test_it_skips_channels_that_are_not_configured(db, settings):
    settings.ADMINS = []
    settings.TELEGRAM_BOT_TOKEN = ""
    notification = paused()
    assert (notification.email_status, notification.telegram_status) == ("off", "off")
    assert notification_deliver(notification_id=notification.pk) is True
    assert mail.outbox == []
