"""Redis clients without a client object per call: the Celery broker transport for Redis URLs
(kombu's, minus a client per message) and the cache's client for the hot paths.

kombu's Redis channel builds a new ``redis.Redis`` client (a table of ~170 response callbacks)
for every message it publishes, over the same connection pool; that is a third of the CPU an
order's enqueue-on-commit costs. This channel builds one client per connection pool and reuses
it (redis-py clients are thread-safe; the pool does the connecting, and is rebuilt, with a new
client, when the channel reconnects). Selected in settings for ``redis://`` broker URLs.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache
from kombu.transport import redis

_local = threading.local()


def cache_client(cache: RedisCache) -> Any:
    """The cache's Redis client, built once per thread and connection pool.

    Why: Django builds a new client object on every cache call, and building one (its table of
    response callbacks) costs more CPU than a pipelined round trip itself. Used on the hot
    paths (API rate limits, the forwarding wake flag). Keys go to Redis as given, without the
    cache's prefix and version unless made with ``cache.make_key``.
    """
    backend: Any = cache._cache  # Django's RedisCacheClient: its pool and client class
    pool = backend._get_connection_pool(write=True)
    client = getattr(_local, "client", None)
    if client is None or client.connection_pool is not pool:
        client = _local.client = backend._client(connection_pool=pool)
    return client


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
