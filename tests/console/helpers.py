from django.core import mail

from console.services import notifications_deliver_pending


def sent_mail() -> list[mail.EmailMessage]:
    """Run the notification sender (what the Celery task does) and return the outbox."""
    notifications_deliver_pending()
    return list(mail.outbox)
