"""``ProviderTransport`` against real sockets: keep-alive, closed idle connections, TLS, and the
answer encodings providers use."""

from __future__ import annotations

import datetime
import gzip
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from panel.smmapi import NotDelivered, SMMClient
from panel.smmapi import transport as transport_module
from tests.smmapi.fakes import KEY

BALANCE = b'{"balance": "12.5", "currency": "USD"}'


class Provider:
    """What the test server saw: one entry per request, the client's address."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []
        self.hang_up_after_answer = False
        self.connection_close = False
        self.gzip = False
        self.chunked = False


@contextmanager
def provider_server(tls: ssl.SSLContext | None = None) -> Iterator[tuple[int, Provider]]:
    seen = Provider()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.peers.append(self.client_address)
            body = gzip.compress(BALANCE) if seen.gzip else BALANCE
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            # A header in UTF-8, as some panels send (their name, a cookie).
            self.send_header("X-Panel", "Панель".encode().decode("latin-1"))
            if seen.gzip:
                self.send_header("Content-Encoding", "gzip")
            if seen.connection_close:
                self.send_header("Connection", "close")
            if seen.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = len(body) // 2
                for part in (body[:half], body[half:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            if seen.hang_up_after_answer:
                # An idle keep-alive connection the server drops (its keepalive_timeout ran out).
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def balance_twice(url: str) -> list[Decimal]:
    with SMMClient(url, KEY) as client:
        return [client.balance().amount for _ in range(2)]


def test_it_opens_a_new_connection_when_the_server_dropped_the_idle_one() -> None:
    with provider_server() as (port, seen):
        seen.hang_up_after_answer = True
        with SMMClient(f"http://127.0.0.1:{port}/api/v2", KEY) as client:
            first = client.balance()
            time.sleep(0.2)  # the server's close reaches the idle socket
            second = client.balance()
    assert first == second
    assert len(set(seen.peers)) == 2


def test_it_does_not_reuse_a_connection_idle_past_the_keepalive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_module, "KEEPALIVE_SECONDS", 0.0)
    with provider_server() as (port, seen):
        assert balance_twice(f"http://127.0.0.1:{port}/api/v2") == [Decimal("12.5")] * 2
    assert len(set(seen.peers)) == 2


def test_it_closes_a_connection_the_answer_says_is_closing() -> None:
    with provider_server() as (port, seen):
        seen.connection_close = True
        assert balance_twice(f"http://127.0.0.1:{port}/api/v2") == [Decimal("12.5")] * 2
    assert len(set(seen.peers)) == 2


@pytest.mark.parametrize(("gzipped", "chunked"), [(True, False), (False, True), (True, True)])
def test_it_reads_gzipped_and_chunked_answers(gzipped: bool, chunked: bool) -> None:
    with provider_server() as (port, seen):
        seen.gzip, seen.chunked = gzipped, chunked
        assert balance_twice(f"http://127.0.0.1:{port}/api/v2") == [Decimal("12.5")] * 2
    assert len(set(seen.peers)) == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost``: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Provider]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with provider_server(tls=context) as served:
        yield served


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built from now on trust the test certificate (and nothing else)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


def test_it_speaks_tls_and_keeps_the_connection(
    tls_server: tuple[int, Provider], trusted: None
) -> None:
    port, seen = tls_server
    assert balance_twice(f"https://localhost:{port}/api/v2") == [Decimal("12.5")] * 2
    assert len(set(seen.peers)) == 1


def test_it_refuses_a_certificate_it_does_not_trust(tls_server: tuple[int, Provider]) -> None:
    port, seen = tls_server
    with (
        SMMClient(f"https://localhost:{port}/api/v2", KEY) as client,
        pytest.raises(NotDelivered) as caught,
    ):
        client.add("1", {"link": "x", "quantity": 100})
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert seen.peers == []


def test_it_refuses_a_certificate_for_another_name(
    tls_server: tuple[int, Provider], trusted: None
) -> None:
    port, seen = tls_server
    with (
        SMMClient(f"https://127.0.0.1:{port}/api/v2", KEY) as client,
        pytest.raises(NotDelivered) as caught,
    ):
        client.balance()
    assert "not delivered (ConnectError: " in caught.value.message
    assert seen.peers == []
