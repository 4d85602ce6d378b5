"""The transport provider calls go through when private addresses are refused.

Why at the transport: a provider URL is typed by staff, and a host may resolve to the panel's
own network (``localhost``, ``10.0.0.5``, the cloud metadata address ``169.254.169.254``), which
would send our API key and whatever the answer echoes into that network. Checking the URL when
it is saved is not enough: DNS can answer differently at call time. So the host is resolved
when the connection is opened, every address is checked, and the socket connects to the checked
address itself (TLS still verifies the certificate for the host name). Redirects are never
followed (``SMMClient``), so a public host cannot bounce the call inward either.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


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
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[Address] = []
    for info in infos:
        # IPv6 link-local addresses carry a zone ("fe80::1%eth0").
        addresses.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
    refused = [address for address in addresses if not is_public(address)]
    if refused or not addresses:
        raise httpcore.ConnectError(
            f"{host} resolves to a non-public address ({refused[0] if refused else 'none'}); "
            "provider calls go to public addresses only (SMMAPI_ALLOW_PRIVATE_HOSTS)"
        )
    return str(addresses[0])


class _PublicOnlyBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return super().connect_tcp(
            public_address(host, port), port, timeout, local_address, socket_options
        )


class PublicOnlyTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (no retries, default TLS) whose connections open only to public
    addresses. Environment proxies are not used through it: the address checked must be the
    address connected to."""

    def __init__(self) -> None:
        super().__init__(retries=0)
        # Why replace httpx's pool: HTTPTransport does not take a network backend, and the
        # check must run where the socket is opened (see the module docstring).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_PublicOnlyBackend(),
            retries=0,
        )
