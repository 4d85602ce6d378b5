"""Enqueueing forwarding on commit publishes through one reused Redis client."""

import json

import pytest
from django.conf import settings

from orders.services.placement import enqueue_forward
from panel.celery import app


@pytest.fixture
def redis_broker() -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker")


def test_it_publishes_every_message_through_one_client(redis_broker: None) -> None:
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        channel.client.delete("celery")

        enqueue_forward(101)
        enqueue_forward(102)
        with app.producer_or_acquire() as producer:
            client = producer.channel._create_client()
            assert producer.channel._create_client() is client

        bodies = [json.loads(raw) for raw in channel.client.lrange("celery", 0, -1)]
    assert [(b["headers"]["task"], b["headers"]["argsrepr"]) for b in bodies] == [
        ("orders.tasks.forward_order", "(102,)"),
        ("orders.tasks.forward_order", "(101,)"),
    ]
