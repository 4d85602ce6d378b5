"""Fake providers for the client's tests: at the HTTP layer, or as real local sockets."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx
from respx.mocks import AbstractRequestMocker

from panel.smmapi import SMMClient

KEY = "a3f1c9e07b5d42e8a6c1f0e9d8b7c6a5"
URL = "https://provider.example/api/v2"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeProvider:
    """An ``httpx.MockTransport`` that records requests and plays answers in order.

    The last answer is repeated once the others are used up.
    """

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def client(self, url: str = URL, **kwargs: float) -> SMMClient:
        return SMMClient(url, KEY, transport=httpx.MockTransport(self._handle), **kwargs)

    def forms(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(r.content.decode(), keep_blank_values=True)) for r in self.requests]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)


class ProviderMocker(AbstractRequestMocker):
    """Lets respx answer provider calls made through ``ProviderTransport``, where the client is
    built inside the code under test: ``respx.mock(using="provider")``."""

    name = "provider"
    targets = ["panel.smmapi.transport.ProviderTransport"]
    target_methods = ["handle_request"]

    @classmethod
    def to_httpx_request(cls, **kwargs: httpx.Request) -> httpx.Request:
        return kwargs["request"]

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: object, **kwargs: object
    ) -> httpx.Response:
        return httpx_response


def answering(payload: object, status: int = 200) -> FakeProvider:
    return FakeProvider(httpx.Response(status, json=payload))


def raw(text: str, status: int = 200, content_type: str = "text/html") -> httpx.Response:
    return httpx.Response(status, text=text, headers={"Content-Type": content_type})


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    yield port


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and reads the request, but never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v2"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


@contextmanager
def hangup_server() -> Iterator[str]:
    """Reads the request, then closes the connection without a word (reset after send)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v2"
    finally:
        thread.join(timeout=5)
        listener.close()


@contextmanager
def json_server(payload: object) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """A real keep-alive HTTP server answering ``payload``; yields (url, client addresses)."""
    body = json.dumps(payload).encode()
    peers: list[tuple[str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            peers.append(self.client_address)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2", peers
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
