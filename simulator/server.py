"""The HTTP face of the simulator: ``/api/v2`` (SMM API v2) and ``/_control`` (steering).

Stdlib only (ThreadingHTTPServer), so tests and benchmarks can run it in-process:

    with run_simulator(port=0, speed=20, error_rate=0.1) as sim:
        httpx.post(sim.url, data={"key": sim.key, "action": "balance"})
        sim.state.advance(20)
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import logging
import socket
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from panel.smmapi.protocol import Error

from .api import action_of, dispatch, int_numbers, odd_statuses
from .knobs import Knobs
from .state import SimState

logger = logging.getLogger("simulator")

API_PATHS = frozenset({"/api/v2", "/api/v2/"})
CONTROL_PATHS = frozenset({"/_control", "/_control/"})
RECORD_PATH = "/_control/orders"
MAX_BODY = 2 * 1024 * 1024

CLOUDFLARE_502 = """<!DOCTYPE html>
<html lang="en-US"><head><title>provider.example | 502: Bad gateway</title>
<meta charset="UTF-8" /></head><body>
<div id="cf-wrapper"><h1><span>Bad gateway</span> <span>Error code 502</span></h1>
<p>The web server reported a bad gateway error.</p>
<p>Cloudflare Ray ID: <strong>8c1f2e3d4a5b6c7d</strong></p></div></body></html>
"""
PHP_WARNING = (
    '<br />\n<b>Warning</b>:  Undefined array key "runs" in '
    "<b>/var/www/html/api/v2/index.php</b> on line <b>212</b><br />\n"
)


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a client opening its pool of connections at once
    # (the batch forwarder's 16) got resets, which no real provider behind nginx (511) gives.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SimState, *, log_requests: bool) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.log_requests = log_requests
        # Set on shutdown, so that a request sleeping for a fault wakes up at once.
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop kept-alive connections, whose threads would idle until the client leaves."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"
    # Send headers and body in one segment: with keep-alive, Nagle plus delayed ACKs would
    # otherwise add ~40 ms to every answer.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            logger.info("%s %s", self.address_string(), format % args)

    def _route(self) -> None:
        try:
            url = urlsplit(self.path)
            body = self._read_body()
            if url.path in API_PATHS:
                self._api(url.query, body)
            elif url.path in CONTROL_PATHS:
                self._control(body)
            elif url.path == RECORD_PATH:
                self._send_json(self.server.state.record())
            else:
                self._send_json({"error": Error.INCORRECT_REQUEST}, HTTPStatus.NOT_FOUND)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout fault does that on purpose)
        except Exception:
            # A bug in the simulator must still look like a provider answer, not a traceback.
            logger.exception("simulator failed on %s", self.path)
            with contextlib.suppress(OSError):
                self._send_json({"error": Error.INCORRECT_REQUEST})

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _api(self, query: str, body: bytes) -> None:
        state = self.server.state
        params = parse_params(
            query, body, self.headers.get("Content-Type", ""), self.headers.get("X-Api-Key")
        )
        action = action_of(params)
        state.count(action)
        plan, rng = state.plan_faults(action)
        if plan.latency and self.server.stopping.wait(plan.latency):
            return

        if plan.before == "rate_limit":
            self._send_json({"error": "Too many requests"}, HTTPStatus.TOO_MANY_REQUESTS)
            return
        if plan.before == "html":
            self._send(CLOUDFLARE_502.encode(), HTTPStatus.BAD_GATEWAY, "text/html; charset=UTF-8")
            return
        if plan.before == "5xx":
            self._send_json({"error": "Internal Server Error"}, state.knobs.http_5xx_status)
            return
        if plan.before == "error":
            self._send_json({"error": state.knobs.error_text})
            return
        if plan.before == "funds":
            self._send_json({"error": Error.NOT_ENOUGH_FUNDS})
            return

        answer = dispatch(state, params) if params is not None else {"error": "Incorrect request"}
        if plan.odd_status:
            answer = odd_statuses(answer, rng)
        if plan.int_numbers:
            answer = int_numbers(answer)

        if plan.after == "timeout":
            # The action already ran (the order is stored); the client times out first.
            if self.server.stopping.wait(state.knobs.timeout_seconds):
                return
        elif plan.after == "invalid_json":
            self._send(PHP_WARNING.encode() + _dumps(answer), HTTPStatus.OK, "text/html")
            return
        elif plan.after == "5xx":
            self._send_json({"error": "Internal Server Error"}, state.knobs.http_5xx_status)
            return
        self._send_json(answer)

    def _control(self, body: bytes) -> None:
        state = self.server.state
        if self.command == "GET":
            self._send_json(state.snapshot())
            return
        try:
            commands = json.loads(body or b"{}")
            if not isinstance(commands, dict):
                raise ValueError("the control body must be a JSON object")
            result = apply_control(state, commands)
        except (ValueError, KeyError, TypeError) as exc:
            self._send_json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)
            return
        self._send_json(result)

    def _send_json(self, answer: object, status: int = HTTPStatus.OK) -> None:
        self._send(_dumps(answer), status, "application/json")

    def _send(self, payload: bytes, status: int, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _dumps(answer: object) -> bytes:
    return json.dumps(answer, default=_json_default).encode()


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_params(
    query: str, body: bytes, content_type: str, header_key: str | None = None
) -> dict[str, str] | None:
    """Request fields from a query string and a form, multipart or JSON body.

    Repeated fields and ``orders[]`` arrays are joined with commas. None when the body cannot
    be parsed at all.
    """
    pairs: list[tuple[str, str]] = parse_qsl(query, keep_blank_values=True)
    media_type = content_type.split(";")[0].strip().lower()
    try:
        if media_type == "application/json" or (not media_type and body.lstrip()[:1] == b"{"):
            pairs += _json_pairs(body)
        elif media_type == "multipart/form-data":
            pairs += _multipart_pairs(body, content_type)
        elif body:
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return None
    params: dict[str, str] = {}
    for raw_name, value in pairs:
        name = raw_name.removesuffix("[]")
        if raw_name.endswith("[]") and params.get(name):
            params[name] = f"{params[name]},{value}"
        else:
            params[name] = value
    if header_key and not params.get("key"):
        params["key"] = header_key
    return params


def _json_pairs(body: bytes) -> list[tuple[str, str]]:
    data = json.loads(body.decode("utf-8", "replace") or "{}")
    if not isinstance(data, dict):
        raise ValueError("JSON body must be an object")
    pairs = []
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs.append((str(name), ",".join(_scalar(item) for item in value)))
        else:
            pairs.append((str(name), _scalar(value)))
    return pairs


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError("nested JSON values are not request fields")


def _multipart_pairs(body: bytes, content_type: str) -> list[tuple[str, str]]:
    # PHP's curl with an array of POSTFIELDS sends multipart: common among reseller scripts.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("bad multipart body")
    pairs = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            pairs.append((name, payload.decode("utf-8", "replace")))
    return pairs


def apply_control(state: SimState, commands: Mapping[str, Any]) -> dict[str, object]:
    """Apply ``POST /_control`` commands in a fixed order; answer the new snapshot.

    Commands: knobs {name: value}, reset (bool), reset_counts (bool), balance "12.34",
    advance seconds, finish_all (bool), set_order {id, status, remains, start_count, posts} or a
    list of them, set_refill {id, status}, add_service {...}, update_service {id, ...},
    remove_service id, forget_order id or a list of ids (the provider purged them).
    """
    known = {
        "knobs",
        "reset",
        "reset_counts",
        "balance",
        "advance",
        "finish_all",
        "set_order",
        "set_refill",
        "add_service",
        "update_service",
        "remove_service",
        "forget_order",
    }
    unknown = sorted(set(commands) - known)
    if unknown:
        raise ValueError(f"Unknown control command: {', '.join(unknown)}")
    result: dict[str, object] = {}
    if "knobs" in commands:
        if not isinstance(commands["knobs"], Mapping):
            raise ValueError("knobs must be an object")
        state.set_knobs(**commands["knobs"])
    if commands.get("reset"):
        state.reset()
    if commands.get("reset_counts"):
        state.reset_counts()
    if "balance" in commands:
        state.set_balance(str(commands["balance"]))
    if "advance" in commands:
        state.advance(float(commands["advance"]))
    if commands.get("finish_all"):
        state.finish_all()
    changes = commands.get("set_order")
    for change in changes if isinstance(changes, list) else [changes] if changes else []:
        change = dict(change)
        state.set_order(int(change.pop("id")), **change)
    if "set_refill" in commands:
        change = dict(commands["set_refill"])
        state.set_refill(int(change.pop("id")), status=str(change["status"]))
    if "add_service" in commands:
        result["service"] = state.add_service(**commands["add_service"]).id
    if "update_service" in commands:
        change = dict(commands["update_service"])
        state.update_service(int(change.pop("id")), **change)
    if "remove_service" in commands:
        state.remove_service(int(commands["remove_service"]))
    forgotten = commands.get("forget_order")
    for order_id in forgotten if isinstance(forgotten, list) else [forgotten] if forgotten else []:
        state.forget_order(int(order_id))
    return {**state.snapshot(), **result}


class Simulator:
    """A running simulator: ``url`` (the /api/v2 URL), ``key``, ``state``, ``counts``."""

    def __init__(
        self,
        state: SimState,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
    ) -> None:
        self.state = state
        self.httpd = SimulatorHTTPServer((host, port), state, log_requests=log_requests)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/v2"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_control"

    @property
    def key(self) -> str:
        return self.state.key

    @property
    def counts(self) -> dict[str, int]:
        """Requests received by action; a missing action reads as 0."""
        return self.state.counts

    def start(self) -> None:
        """Serve in a background thread."""
        # A short poll interval makes stop() quick: tests start one simulator each.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.02,), name="simulator", daemon=True
        )
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` (from another thread) or KeyboardInterrupt."""
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.stopping.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
        self.httpd.close_connections()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    services: int = 50,
    seed: int = 0,
    key: str = "sim-key",
    balance: Decimal | str | int = "1000.00",
    frozen_clock: bool = False,
    log_requests: bool = False,
    **knobs: object,
) -> Iterator[Simulator]:
    """Run a simulator in a background thread for the ``with`` block.

    ``knobs`` are the fields of :class:`Knobs` (speed, partial_share, error_rate, ...).
    ``frozen_clock=True`` stops real time: only ``sim.state.advance()`` moves orders.
    """
    settings = Knobs()
    settings.update(knobs)
    state = SimState(
        services=services,
        seed=seed,
        key=key,
        balance=balance,
        knobs=settings,
        frozen_clock=frozen_clock,
    )
    with Simulator(state, host=host, port=port, log_requests=log_requests) as sim:
        yield sim
