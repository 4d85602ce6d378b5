"""How the scenarios talk to the running system: as a reseller (SMM API v2), as a browser
(session and CSRF token), and to the simulator's control endpoint."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class ResellerApi:
    """One reseller's SMM API v2 client; thread-safe (one pooled httpx client)."""

    def __init__(self, url: str, key: str, *, timeout: float = 30) -> None:
        self.url = url
        self.key = key
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self.http = httpx.Client(timeout=timeout, limits=limits)

    def call(self, **fields: object) -> tuple[int, Any, float]:
        """POST one action; (HTTP status, decoded JSON or None, seconds taken)."""
        started = time.perf_counter()
        response = self.http.post(self.url, data={"key": self.key, **fields})
        elapsed = time.perf_counter() - started
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body, elapsed

    def add(self, *, service: int, link: str, quantity: int) -> Any:
        """The decoded answer of an ``add``: {"order": id} or {"error": sentence}; None when
        the answer was not JSON (a 500 page)."""
        _status, body, _elapsed = self.call(
            action="add", service=service, link=link, quantity=quantity
        )
        return body

    def close(self) -> None:
        self.http.close()


class WebSession:
    """A signed-in browser: posts the new-order form with its CSRF token."""

    def __init__(self, base_url: str, session_cookie: tuple[str, str]) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30, follow_redirects=False)
        self.http.cookies.set(*session_cookie, domain="127.0.0.1")
        self.token = ""

    def load_form(self) -> int:
        """Open the new-order page (as the customer did before an outage); its status."""
        response = self.http.get("/orders/new/")
        match = CSRF_INPUT.search(response.text)
        self.token = match.group(1) if match else ""
        return response.status_code

    def place(self, *, service: int, link: str, quantity: int, key: str) -> httpx.Response:
        return self.http.post(
            "/orders/new/",
            data={
                "csrfmiddlewaretoken": self.token,
                "service": service,
                "link": link,
                "quantity": quantity,
                "idempotency_key": key,
            },
            headers={"Referer": f"{self.base_url}/orders/new/"},
        )

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def close(self) -> None:
        self.http.close()


class SimControl:
    """The simulator's ``/_control`` endpoint: knobs, steering, and its record of orders."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=30)

    def command(self, **commands: object) -> dict[str, Any]:
        response = self.http.post(f"{self.base_url}/_control", json=commands)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def knobs(self, **knobs: object) -> None:
        self.command(knobs=knobs)

    def calm(self) -> None:
        """Every fault off."""
        self.knobs(
            latency_ms=0,
            rate_limit_rate=0,
            error_rate=0,
            error_text="Incorrect request",
            http_5xx_rate=0,
            html_rate=0,
            invalid_json_rate=0,
            timeout_rate=0,
            funds_rate=0,
            odd_status_rate=0,
            int_numbers_rate=0,
            actions=None,
            scopes={},
        )

    def snapshot(self) -> dict[str, Any]:
        response = self.http.get(f"{self.base_url}/_control")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def count(self, action: str) -> int:
        return int(self.snapshot()["counts"].get(action, 0))

    def record(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base_url}/_control/orders")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def close(self) -> None:
        self.http.close()
