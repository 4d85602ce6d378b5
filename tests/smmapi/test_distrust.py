"""Issue 10, the client seam: answers clamped to what our columns hold, verdicts only from known
phrases, provider text capped, and calls only to public addresses."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from panel.smmapi import (
    NotDelivered,
    OrderState,
    OrderStatus,
    Rejected,
    RejectReason,
    SMMClient,
    UnknownOutcome,
)
from panel.smmapi.errors import MAX_MESSAGE_CHARS
from panel.smmapi.parsing import order_item, parse_order_id, to_int
from panel.smmapi.transport import is_public
from tests.smmapi.fakes import KEY, FakeProvider, answering, json_server, raw

# --- clamped to our columns -----------------------------------------------------------------


def test_it_flags_a_start_count_beyond_the_column_instead_of_returning_it() -> None:
    # A views order on a video with 3 billion views: IntegerField holds up to 2**31 - 1.
    with answering(
        {"status": "In progress", "start_count": "3000000000", "remains": "5"}
    ).client() as client:
        status = client.status("1")
    assert status.start_count is None
    assert status.remains == 5
    assert status.flags == ("start_count 3000000000 does not fit (-2147483648..2147483647).",)


@pytest.mark.parametrize(
    ("fields", "flagged"),
    [
        ({"remains": -(2**31) - 1}, "remains"),
        ({"remains": "99999999999999999999"}, "remains"),
        ({"posts": -3}, "posts"),
        ({"posts": 2**31}, "posts"),
        ({"charge": "12345678901234.5"}, "charge"),
    ],
)
def test_it_flags_every_number_our_columns_cannot_hold(
    fields: dict[str, Any], flagged: str
) -> None:
    status = order_item({"status": "Partial", **fields})
    assert isinstance(status, OrderStatus)
    assert getattr(status, flagged) is None
    assert len(status.flags) == 1
    assert status.flags[0].startswith(f"{flagged} ")


def test_it_keeps_numbers_that_fit_without_flags() -> None:
    status = order_item(
        {"status": "Partial", "start_count": 2**31 - 1, "remains": -(2**31), "posts": 0,
         "charge": "9999999999999.12345"}
    )  # fmt: skip
    assert status == OrderStatus(
        OrderState.PARTIAL,
        "Partial",
        Decimal("9999999999999.12345"),
        2**31 - 1,
        -(2**31),
        None,
        posts=0,
    )


def test_it_cuts_the_raw_status_to_its_column_and_still_reads_it() -> None:
    status = order_item({"status": "Completed" + " " * 100 + "x" * 100})
    assert isinstance(status, OrderStatus)
    assert len(status.raw_status) == 64
    assert order_item({"status": "in progress" + "!" * 500}).status is OrderState.IN_PROGRESS  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["1" * 5000, "²", "١٢", "1E+999999999", "9" * 61])
def test_it_reads_no_number_from_digits_it_cannot_hold(value: str) -> None:
    # int("1" * 5000) raises ValueError and int(Decimal("1E+999999999")) exhausts memory.
    assert to_int(value) is None


def test_it_returns_a_long_upstream_order_id_whole() -> None:
    long_id = "A" * 300
    assert parse_order_id({"order": f"  {long_id} "}) == long_id


@pytest.mark.parametrize("order_id", ["A" * 1001, "12\x00", "12\udfff"])
def test_it_takes_no_order_id_that_is_not_one(order_id: str) -> None:
    # json.dumps escapes the surrogate (\udfff), as a provider's JSON encoder would.
    provider = FakeProvider(raw(json.dumps({"order": order_id}), content_type="application/json"))
    with provider.client() as client, pytest.raises(UnknownOutcome):
        client.add("1", {"link": "https://x.com/a", "quantity": 100})


def test_it_makes_provider_text_storable() -> None:
    error = order_item({"error": "bad\x00 link \udfff"})
    assert error.message == "bad\ufffd link \ufffd"  # type: ignore[union-attr]


# --- verdicts from known phrases only -------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Insufficient quantity for this service", RejectReason.UNKNOWN),
        ("Invalid token in link", RejectReason.UNKNOWN),
        ("Funds will be credited after the order completes", RejectReason.UNKNOWN),
        ("Your key to success: wait", RejectReason.UNKNOWN),
        ("This link cannot be authenticated", RejectReason.UNKNOWN),
        ("Services are temporarily paused", RejectReason.UNKNOWN),
        ("Order this service again later", RejectReason.UNKNOWN),
        ("Please wait until the provider is back", RejectReason.UNKNOWN),
        ("Not enough funds on balance", RejectReason.NOT_ENOUGH_FUNDS),
        ("insufficient funds", RejectReason.NOT_ENOUGH_FUNDS),
        ("Insufficient balance", RejectReason.NOT_ENOUGH_FUNDS),
        ("neworder.error.not_enough_funds", RejectReason.NOT_ENOUGH_FUNDS),
        ("Invalid API key", RejectReason.BAD_KEY),
        ("incorrect api key", RejectReason.BAD_KEY),
        ("API key is invalid", RejectReason.BAD_KEY),
    ],
)
def test_it_gives_account_verdicts_only_for_whole_known_phrases(
    message: str, reason: RejectReason
) -> None:
    assert RejectReason.from_message(message) is reason


def test_it_does_not_pause_on_a_quantity_sentence_over_http() -> None:
    provider = answering({"error": "Insufficient quantity for this service"})
    with provider.client() as client, pytest.raises(Rejected) as caught:
        client.add("1", {"link": "https://x.com/a", "quantity": 100})
    assert caught.value.reason is RejectReason.UNKNOWN


# --- provider text is capped ----------------------------------------------------------------


def test_it_caps_the_providers_error_text() -> None:
    with answering({"error": "x" * 100_000}).client() as client, pytest.raises(Rejected) as caught:
        client.balance()
    assert len(caught.value.message) == MAX_MESSAGE_CHARS


# --- public addresses only ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address checked, not bound)
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_it_knows_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.fixture
def private_refused(settings: Settings) -> None:
    settings.SMMAPI_ALLOW_PRIVATE_HOSTS = False


def test_it_refuses_a_loopback_provider_when_private_hosts_are_off(
    private_refused: None,
) -> None:
    with (
        json_server({"balance": "1", "currency": "USD"}) as (url, peers),
        SMMClient(url, KEY) as client,
        pytest.raises(NotDelivered) as caught,
    ):
        client.balance()
    assert peers == []
    assert "non-public address" in caught.value.message
    assert KEY not in caught.value.message


def test_it_refuses_a_name_whose_addresses_include_a_private_one(
    private_refused: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A DNS answer with a public and an internal address: every address is checked.
    with json_server({"balance": "1", "currency": "USD"}) as (url, peers):
        port = int(url.split(":")[2].split("/")[0])

        def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
            assert host == "provider.example"
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        client = SMMClient(f"http://provider.example:{port}/api/v2", KEY)
        with client, pytest.raises(NotDelivered):
            client.balance()
    assert peers == []


def test_it_connects_to_the_address_it_checked(
    private_refused: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Resolved once per connection: a second lookup (DNS rebinding) is never asked.
    calls: list[str] = []
    real = socket.getaddrinfo

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        return real("93.184.216.34", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    seen: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        seen.append(address)
        raise ConnectionRefusedError("test: not really connecting")

    monkeypatch.setattr(socket, "create_connection", connect)
    with SMMClient("https://provider.example/api/v2", KEY) as client, pytest.raises(NotDelivered):
        client.balance()
    assert calls == ["provider.example"]
    assert seen == [("93.184.216.34", 443)]


def test_it_allows_private_hosts_when_the_setting_is_on(settings: Settings) -> None:
    settings.SMMAPI_ALLOW_PRIVATE_HOSTS = True
    with (
        json_server({"balance": "1.5", "currency": "USD"}) as (url, _peers),
        SMMClient(url, KEY) as client,
    ):
        assert client.balance().amount == Decimal("1.5")


def test_it_does_not_follow_a_redirect() -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/internal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
        with SMMClient(url, KEY) as client, pytest.raises(UnknownOutcome):
            client.balance()
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/api/v2"]
