"""/api/v2 is served from the top of the middleware stack (orders/api/v2/middleware.py)."""

from __future__ import annotations

import select
import tempfile

import psycopg
import pytest
from django.db import connection
from django.test import Client, override_settings

from accounts.models import User
from tests.api.conftest import V2


def test_it_answers_without_touching_sessions_csrf_or_locale(
    client: Client, key: str, customer: User
) -> None:
    client.cookies["sessionid"] = "not-a-session"
    client.cookies["django_language"] = "ru"
    response = client.post(V2, {"key": key, "action": "balance"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert response.json() == {"balance": "100.00", "currency": "USD"}
    # No session read (it would add Vary: Cookie), no cookie set, no language negotiated.
    assert "Vary" not in response
    assert not response.cookies
    assert "Content-Language" not in response
    # Security headers still come from SecurityMiddleware, framing is still refused.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/"])
def test_it_serves_both_spellings(client: Client, key: str, path: str) -> None:
    response = client.post(path, {"key": key, "action": "balance"})
    assert response.status_code == 200
    assert set(response.json()) == {"balance", "currency"}


@override_settings(ALLOWED_HOSTS=["panel.example"])
def test_it_still_refuses_a_host_outside_allowed_hosts(client: Client, key: str) -> None:
    response = client.post(V2, {"key": key, "action": "balance"}, HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_it_leaves_other_paths_to_the_full_stack(client: Client) -> None:
    response = client.get("/api/v1/services/")
    # The REST API goes through the usual middleware (its session-aware authentication).
    assert response.status_code in (401, 403)
    assert response["X-Frame-Options"] == "DENY"


def sent_to_postgres(client: Client, **fields: str) -> tuple[int, list[bytes]]:
    """POST to /api/v2 as a new request on a reused connection; the queries libpq sent."""
    connection.ensure_connection()
    connection.health_check_done = False  # what close_old_connections does as a request starts
    with tempfile.TemporaryFile() as trace:
        connection.connection.pgconn.trace(trace.fileno())
        try:
            response = client.post(V2, fields)
        finally:
            if connection.connection is not None:
                connection.connection.pgconn.untrace()
        trace.seek(0)
        # libpq's trace: one line per message, "<time>\tF\t<length>\tQuery\t <text>" for ours.
        lines = [line.split(b"\t") for line in trace.read().splitlines()]
    return response.status_code, [
        line[4].strip() for line in lines if line[1:4:2] == [b"F", b"Query"]
    ]


@pytest.mark.django_db(transaction=True)
def test_it_checks_the_idle_connection_without_a_round_trip(
    requires_postgres: None, client: Client, key: str
) -> None:
    status, queries = sent_to_postgres(client, key=key, action="balance")
    assert status == 200
    assert b"accounts_apikey" in queries[0]  # the trace works: the key lookup is in it
    assert b'"SELECT 1"' not in queries  # Django's health check query was not needed


@pytest.mark.django_db(transaction=True)
def test_it_reconnects_when_the_server_ended_the_idle_session(
    requires_postgres: None, client: Client, key: str
) -> None:
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    where = {name: params[name] for name in ("host", "port", "user", "dbname") if name in params}
    with psycopg.connect(**where) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server did not hang up"

    connection.health_check_done = False
    response = client.post(V2, {"key": key, "action": "balance"})

    assert response.status_code == 200
    assert response.json() == {"balance": "100.00", "currency": "USD"}
    assert connection.connection.info.backend_pid != old_pid
