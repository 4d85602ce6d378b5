"""The HTTP transport of provider calls: kept-alive HTTP/1.1 connections on ``http.client``.

Why not httpx's own transport: a provider call is one small form POST and one small JSON answer,
and httpcore's pool and h11's parser cost about twice as much CPU per call as the call's own
work. The forwarder makes hundreds of these a second on a couple of cores, so this transport
speaks HTTP/1.1 through the standard library and keeps httpx's request, response and exception
types: ``SMMClient`` classifies failures by httpx's exception classes whichever transport it is
given (tests give it ``httpx.MockTransport``).

Private addresses: a provider URL is typed by staff, and a host may resolve to the panel's own
network (``localhost``, ``10.0.0.5``, the cloud metadata address ``169.254.169.254``), which
would send our API key and whatever the answer echoes into that network. Checking the URL when
it is saved is not enough: DNS can answer differently at call time. So with ``public_only`` the
host is resolved when the connection is opened, every address is checked, and the socket
connects to the checked address itself (TLS still verifies the certificate for the host name).
Redirects are never followed (``SMMClient``), and no proxy is used, so a public host cannot
bounce the call inward either.
"""

from __future__ import annotations

import http.client
import ipaddress
import select
import socket
import threading
import time
from typing import Any

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# An idle connection older than this is closed rather than reused: a server that closed it
# meanwhile would make the next POST an unknown outcome (httpx's default too).
KEEPALIVE_SECONDS = 5.0
MAX_IDLE_PER_HOST = 32
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_public(address: Address) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local…)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def public_address(host: str, port: int) -> str:
    """One address of ``host`` to connect to; ConnectError unless every address is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[Address] = []
    for info in infos:
        # IPv6 link-local addresses carry a zone ("fe80::1%eth0").
        addresses.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    refused = [address for address in addresses if not is_public(address)]
    if refused or not addresses:
        raise httpx.ConnectError(
            f"{host} resolves to a non-public address ({refused[0] if refused else 'none'}); "
            "provider calls go to public addresses only (SMMAPI_ALLOW_PRIVATE_HOSTS)"
        )
    return str(addresses[0])


Origin = tuple[str, str, int]


def _quiet(sock: socket.socket) -> bool:
    """True when an idle socket has nothing to read: readable while idle means the server
    closed it (or said something unasked). poll, not select: select fails on a descriptor
    numbered over 1024, which a busy worker reaches."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return not poller.poll(0)


class _Idle:
    __slots__ = ("connection", "since")

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection
        self.since = time.monotonic()


class ProviderTransport(httpx.BaseTransport):
    """HTTP/1.1 over kept-alive connections, safe to share between threads; never retries.

    Raises httpx's exceptions: ``ConnectError``/``ConnectTimeout`` before a byte of the request
    left (the socket, DNS, the address check, TLS), and ``WriteError``/``WriteTimeout``,
    ``ReadError``/``ReadTimeout`` or ``RemoteProtocolError`` once it may have been sent.
    """

    def __init__(self, *, public_only: bool) -> None:
        self._public_only = public_only
        self._ssl_context = httpx.create_ssl_context()
        self._idle: dict[Origin, list[_Idle]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url}'")
        # The ASCII (IDNA) form: what DNS, the certificate check and the Host header use.
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS[url.scheme])
        timeout: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = self._reuse(origin) or self._connect(origin, timeout.get("connect"))
        try:
            return self._exchange(connection, origin, request, timeout)
        except BaseException:
            connection.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [entry for entries in self._idle.values() for entry in entries]
            self._idle.clear()
        for entry in idle:
            entry.connection.close()

    # --- connections ------------------------------------------------------------------------

    def _reuse(self, origin: Origin) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                entries = self._idle.get(origin)
                if not entries:
                    return None
                entry = entries.pop()
            sock = entry.connection.sock
            if now - entry.since < KEEPALIVE_SECONDS and sock is not None and _quiet(sock):
                return entry.connection
            entry.connection.close()

    def _release(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            entries = self._idle.setdefault(origin, [])
            if not self._closed and len(entries) < MAX_IDLE_PER_HOST:
                entries.append(_Idle(connection))
                return
        connection.close()

    def _connect(self, origin: Origin, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port = origin
        address = public_address(host, port) if self._public_only else host
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except TimeoutError:
            raise httpx.ConnectTimeout("timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from None
        # One small POST per call: send it now, not after the previous segment's ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection: http.client.HTTPConnection
        if scheme == "https":
            try:
                sock = self._ssl_context.wrap_socket(sock, server_hostname=host)
            except TimeoutError:
                sock.close()
                raise httpx.ConnectTimeout("timed out") from None
            except OSError as exc:  # ssl.SSLError, a failed certificate check included
                sock.close()
                raise httpx.ConnectError(str(exc)) from None
            connection = http.client.HTTPSConnection(host, port, context=self._ssl_context)
        else:
            connection = http.client.HTTPConnection(host, port)
        connection.sock = sock
        return connection

    # --- one exchange -----------------------------------------------------------------------

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        origin: Origin,
        request: httpx.Request,
        timeout: dict[str, float | None],
    ) -> httpx.Response:
        sock = connection.sock  # set by _connect, kept while the connection is open
        body = request.read()
        try:
            sock.settimeout(timeout.get("write"))
            connection.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                connection.putheader(name.decode("latin-1"), value.decode("latin-1"))
            connection.endheaders(body or None)
        except TimeoutError:
            raise httpx.WriteTimeout("timed out") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc)) from None
        try:
            sock.settimeout(timeout.get("read"))
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError:
            raise httpx.ReadTimeout("timed out") from None
        except http.client.RemoteDisconnected:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response."
            ) from None
        except http.client.HTTPException as exc:
            raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from None
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/1.1",
            "reason_phrase": answer.reason.encode("latin-1", "replace"),
        }
        response = httpx.Response(
            answer.status,
            # As bytes: http.client decodes header bytes as Latin-1, and httpx would encode a
            # str back as ASCII, failing on a provider's non-ASCII header.
            headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.getheaders()],
            stream=httpx.ByteStream(content),
            extensions=extensions,
        )
        if answer.will_close:
            connection.close()
        else:
            self._release(origin, connection)
        return response
