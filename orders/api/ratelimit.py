"""Fixed-window request counters for the reseller APIs, kept in the cache (Redis in production).

Checked before anything touches the database, so a flood costs a cache round trip or two per
request, never a query. Three counters, all per minute:

* per presented API key (its hash, so keys never sit in the cache in clear),
* per client IP,
* failed authentications per IP: a much lower limit, so guessing keys from one address is slowed
  to a crawl while the owner of a valid key elsewhere is unaffected.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from panel.broker import cache_client

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limited:
    """A request over a limit: what to tell the caller."""

    scope: str
    retry_after: int

    @property
    def message(self) -> str:
        return "Too many requests"


def _window() -> tuple[int, int]:
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
    return window, retry_after


def _key_id(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8", "replace")).hexdigest()[:32]


def _counts(names: list[str], window: int, *, peek: str | None = None) -> list[int]:
    """Add one to each named counter of this window; returns the new counts (then `peek`'s).

    With Redis, one pipelined round trip (INCR + EXPIRE per counter) on the hot path of every
    API request; other cache backends (development) go through the portable cache API.
    """
    keys = [f"api-rl:{name}:{window}" for name in names]
    peek_key = f"api-rl:{peek}:{window}" if peek else None
    try:
        return _count_in_cache(keys, peek_key)
    except Exception:
        # Why: with Redis down, resellers' orders must still be placed (the order row is the
        # outbox; the sweeper forwards it later). A limiter that cannot count lets them pass.
        logger.warning("API rate limits not counted: the cache is unreachable", exc_info=True)
        return [0] * (len(keys) + (1 if peek_key else 0))


# KEYS: the counters to add one to, then at most one to read; ARGV: the counters' lifetime and
# how many of KEYS are counters. Answers the counts in the order of KEYS.
_COUNT_SCRIPT = """
local counters = tonumber(ARGV[2])
local counts = {}
for i = 1, counters do
  counts[i] = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
end
if #KEYS > counters then
  counts[counters + 1] = tonumber(redis.call('GET', KEYS[counters + 1]) or '0')
end
return counts
"""


@functools.cache
def _count_script(client: Any) -> Any:
    """The script registered with this (per-thread) client; it loads itself on first use."""
    return client.register_script(_COUNT_SCRIPT)


def _count_in_cache(keys: list[str], peek_key: str | None) -> list[int]:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Why a script: one command and one reply instead of a pipeline of five, whose
        # packing and parsing in redis-py cost more CPU than Redis spends on the counting.
        client = cache_client(cache)
        counted = _count_script(client)(
            keys=[*keys, *([peek_key] if peek_key else [])],
            args=[WINDOW_SECONDS + 5, len(keys)],
            client=client,
        )
        return [int(count) for count in counted]
    counts = []
    for key in keys:
        # add() wins the race to create; incr() handles everyone after.
        if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
            counts.append(1)
            continue
        try:
            counts.append(int(cache.incr(key)))
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            counts.append(1)
    if peek_key:
        counts.append(int(cache.get(peek_key) or 0))
    return counts


def _limits() -> tuple[int, int, int]:
    return (
        int(settings.API_RATE_LIMIT_PER_IP),
        int(settings.API_RATE_LIMIT_PER_KEY),
        int(settings.API_RATE_LIMIT_FAILED_AUTH_PER_IP),
    )


def check_ip(*, ip: str | None) -> Limited | None:
    """Count this request against its IP's limit; a Limited answer when over it."""
    per_ip, _, _ = _limits()
    window, retry_after = _window()
    [count] = _counts([f"ip:{ip or 'unknown'}"], window)
    if count > per_ip:
        return Limited("ip", retry_after)
    return None


def check_key(*, ip: str | None, raw_key: str) -> Limited | None:
    """Count this request against the presented key's limit, before the key is even looked up.

    Also refuses any key from an IP that failed authentication too often this window.
    """
    _, per_key, failed_per_ip = _limits()
    window, retry_after = _window()
    count, failed = _counts([f"key:{_key_id(raw_key)}"], window, peek=f"fail:{ip or 'unknown'}")
    if failed >= failed_per_ip:
        return Limited("failed_auth", retry_after)
    if count > per_key:
        return Limited("key", retry_after)
    return None


def check_request(*, ip: str | None, raw_key: str) -> Limited | None:
    """``check_ip`` and ``check_key`` in one round trip, for a request whose key is known.

    Counts the request against its IP and its key, and refuses it when either is over its
    limit or the IP failed authentication too often this window.
    """
    per_ip, per_key, failed_per_ip = _limits()
    window, retry_after = _window()
    by_ip, by_key, failed = _counts(
        [f"ip:{ip or 'unknown'}", f"key:{_key_id(raw_key)}"],
        window,
        peek=f"fail:{ip or 'unknown'}",
    )
    if by_ip > per_ip:
        return Limited("ip", retry_after)
    if failed >= failed_per_ip:
        return Limited("failed_auth", retry_after)
    if by_key > per_key:
        return Limited("key", retry_after)
    return None


def record_failed_auth(*, ip: str | None) -> None:
    window, _ = _window()
    _counts([f"fail:{ip or 'unknown'}"], window)
