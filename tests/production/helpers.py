import datetime as dt
import socket
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from catalog.models import Provider
from orders.models import Order
from panel.health import BEAT_HEARTBEAT_KEY
from tests.factories import ServiceFactory


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def beat_beats(age: dt.timedelta = dt.timedelta(0)) -> None:
    cache.set(BEAT_HEARTBEAT_KEY, (timezone.now() - age).isoformat())


def open_order(user: User, provider: Provider, *, upstream_id: str = "5001") -> Order:
    service = ServiceFactory(provider=provider)
    return Order.objects.create(
        user=user,
        service=service,
        provider=provider,
        upstream_service_id=service.upstream_id,
        type="Default",
        link="https://example.com/p",
        quantity=100,
        rate=Decimal("1.30000"),
        charge=Decimal("0.13000"),
        status=Order.Status.SENT,
        upstream_order_id=upstream_id,
    )
