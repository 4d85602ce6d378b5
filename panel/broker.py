"""The Celery broker transport for Redis URLs: kombu's, minus a client object per message.

kombu's Redis channel builds a new ``redis.Redis`` client (a table of ~170 response callbacks)
for every message it publishes, over the same connection pool; that is a third of the CPU an
order's enqueue-on-commit costs. This channel builds one client per connection pool and reuses
it (redis-py clients are thread-safe; the pool does the connecting, and is rebuilt, with a new
client, when the channel reconnects). Selected in settings for ``redis://`` broker URLs.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _client_for_pool: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the consumer's polling client: kombu keeps that one already
            return super()._create_client(asynchronous=True)
        client = self._client_for_pool
        if client is None or client.connection_pool is not self.pool:
            client = self._client_for_pool = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
