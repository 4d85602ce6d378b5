"""Django's connection health check (CONN_HEALTH_CHECKS) without its round trip."""

from __future__ import annotations

import select
from typing import Any

from django.db import connections


def check_idle_connection(alias: str = "default") -> None:
    """Close the idle PostgreSQL connection if the server has hung up on it; skip the SELECT 1.

    Why: Django checks a reused connection with a ``SELECT 1`` round trip at the first query of
    each request; on `/api/v2` that is one round trip in four of a ``status`` call. A server
    that ended the session (a restart, ``pg_terminate_backend``, an idle timeout) has sent its
    last message and closed the socket, so the idle socket is readable: polled without
    waiting, that is the same answer for a connection between requests, with no round trip.
    A link that died without a word is not seen; the query fails, the request answers an
    error and Django drops the connection at its end, as it would after any database error.
    """
    conn: Any = connections[alias]  # the health-check flags are set by Django's backends
    raw = conn.connection
    if (
        conn.vendor != "postgresql"
        or raw is None
        or not conn.health_check_enabled
        or conn.health_check_done
        or conn.in_atomic_block
    ):
        return
    try:
        poller = select.poll()
        poller.register(raw.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        hung_up = raw.closed or bool(poller.poll(0))
    except Exception:  # a connection psycopg already closed has no socket
        hung_up = True
    if hung_up:
        conn.close()
    conn.health_check_done = True
