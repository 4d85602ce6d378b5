"""How the client speaks HTTP and how each failure is classified."""

from __future__ import annotations

import logging
import pickle
import time
from decimal import Decimal

import httpx
import pytest
from pytest_django.fixtures import Settings

from panel.smmapi import (
    Balance,
    NotDelivered,
    Rejected,
    RejectReason,
    SMMClient,
    UnknownOutcome,
)
from tests.smmapi.fakes import (
    KEY,
    URL,
    FakeProvider,
    answering,
    closed_port,
    hangup_server,
    json_server,
    raw,
    silent_server,
)

BALANCE = {"balance": "100.84292", "currency": "USD"}


def test_it_sends_a_form_post_with_key_action_and_a_browser_user_agent() -> None:
    provider = answering({"order": 23501})
    with provider.client() as client:
        client.add("5", {"link": "https://instagram.com/p/x", "quantity": 1000})

    (request,) = provider.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["User-Agent"].startswith("Mozilla/5.0 (")
    assert provider.forms() == [
        {
            "key": KEY,
            "action": "add",
            "service": "5",
            "link": "https://instagram.com/p/x",
            "quantity": "1000",
        }
    ]


def test_it_refuses_add_fields_that_would_override_the_protocol_fields() -> None:
    provider = answering({"order": 1})
    with pytest.raises(ValueError, match="key"), provider.client() as client:
        client.add("5", {"key": "other", "link": "x"})
    assert provider.requests == []


def test_it_reads_default_timeouts_from_settings(settings: Settings) -> None:
    settings.SMMAPI_CONNECT_TIMEOUT = 1.5
    settings.SMMAPI_READ_TIMEOUT = 12
    provider = answering(BALANCE)
    with provider.client() as client:
        client.balance()
    assert provider.requests[0].extensions["timeout"] == {
        "connect": 1.5,
        "read": 12.0,
        "write": 12.0,
        "pool": 1.5,
    }


def test_it_prefers_constructor_timeouts() -> None:
    provider = answering(BALANCE)
    with provider.client(connect_timeout=2, read_timeout=7) as client:
        client.balance()
    assert provider.requests[0].extensions["timeout"] == {
        "connect": 2,
        "read": 7,
        "write": 7,
        "pool": 2,
    }


def test_it_reuses_one_connection_for_successive_calls() -> None:
    with json_server(BALANCE) as (url, peers), SMMClient(url, KEY) as client:
        answers = [client.balance() for _ in range(3)]
    assert answers == [Balance(amount=Decimal("100.84292"), currency="USD")] * 3
    assert len(peers) == 3
    assert len(set(peers)) == 1


def test_it_closes_its_connections() -> None:
    client = answering(BALANCE).client()
    client.close()
    with pytest.raises(RuntimeError):
        client.balance()


# --- NotDelivered ----------------------------------------------------------------------------


def test_it_raises_not_delivered_when_the_connection_is_refused() -> None:
    with (
        closed_port() as port,
        SMMClient(f"http://127.0.0.1:{port}/api/v2", KEY) as client,
        pytest.raises(NotDelivered) as caught,
    ):
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.action == "add"
    assert caught.value.message.startswith("add: not delivered (ConnectError: ")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("[Errno -2] Name or service not known"),
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        httpx.ConnectTimeout("timed out"),
        httpx.PoolTimeout("timed out"),
    ],
    ids=["dns", "tls", "connect-timeout", "pool-timeout"],
)
def test_it_raises_not_delivered_when_the_request_could_not_be_sent(
    failure: Exception,
) -> None:
    provider = FakeProvider(failure)
    with pytest.raises(NotDelivered) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == f"add: not delivered ({type(failure).__name__}: {failure})"
    assert len(provider.requests) == 1


# --- UnknownOutcome --------------------------------------------------------------------------


def test_it_raises_unknown_outcome_on_a_read_timeout_and_does_not_retry() -> None:
    with silent_server() as url, SMMClient(url, KEY, read_timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(UnknownOutcome) as caught:
            client.add("1", {"link": "x", "quantity": 100})
    assert time.monotonic() - started < 2
    assert caught.value.message == "add: outcome unknown (ReadTimeout: timed out)"
    assert caught.value.http_status is None
    assert caught.value.body_head == ""


def test_it_raises_unknown_outcome_when_the_provider_hangs_up_after_the_request() -> None:
    with (
        hangup_server() as url,
        SMMClient(url, KEY) as client,
        pytest.raises(UnknownOutcome) as caught,
    ):
        client.add("1", {"link": "x", "quantity": 100})
    # A hang-up after the request is a clean close (RemoteProtocolError) or, when the kernel
    # answers the unread request with a reset, a ReadError: either way the outcome is unknown.
    assert caught.value.message.startswith(
        ("add: outcome unknown (RemoteProtocolError: ", "add: outcome unknown (ReadError: ")
    )


def test_it_posts_add_once_whatever_happens() -> None:
    provider = FakeProvider(httpx.ReadTimeout("timed out"), httpx.Response(200, json={"order": 1}))
    with pytest.raises(UnknownOutcome), provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert len(provider.requests) == 1


def test_it_raises_unknown_outcome_on_a_502_html_page() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 1000 + "</body>"
    provider = FakeProvider(raw(page, status=502))
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == "add: HTTP 502, the answer is not JSON"
    assert caught.value.http_status == 502
    assert caught.value.body_head == page[:500]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"order": 23501', 200),
        ("", 200),
        ('<br />\n<b>Notice</b>: Undefined index {"order": 1}', 200),
        ("<html>Attention Required! | Cloudflare</html>", 403),
    ],
    ids=["truncated", "empty", "php-notice", "waf-page"],
)
def test_it_raises_unknown_outcome_on_an_answer_that_is_not_json(body: str, status: int) -> None:
    provider = FakeProvider(raw(body, status=status))
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == f"add: HTTP {status}, the answer is not JSON"
    assert caught.value.http_status == status
    assert caught.value.body_head == body


@pytest.mark.parametrize(
    "payload",
    [{"status": "success"}, [], {"order": None}, "ok"],
    ids=["no-order", "list", "null-order", "string"],
)
def test_it_raises_unknown_outcome_on_an_unexpected_add_answer(payload: object) -> None:
    with pytest.raises(UnknownOutcome) as caught, answering(payload).client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == "add: unexpected answer (the add answer has no order id)"
    assert caught.value.http_status == 200


def test_it_treats_a_5xx_error_answer_to_add_as_unknown_outcome() -> None:
    # A crashed server may have created the order before failing: never trust it as a rejection.
    provider = answering({"error": "Not enough funds on balance"}, status=500)
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == "add: HTTP 500 with error 'Not enough funds on balance'"
    assert caught.value.http_status == 500
    assert caught.value.body_head == '{"error":"Not enough funds on balance"}'


def test_it_treats_an_add_answer_with_both_an_order_and_an_error_as_unknown_outcome() -> None:
    provider = answering({"order": 77, "error": "Something went wrong"})
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == "add: HTTP 200 with error 'Something went wrong'"


def test_it_trusts_a_5xx_error_answer_to_a_read_only_action() -> None:
    with (
        pytest.raises(Rejected) as caught,
        answering({"error": "Invalid API key"}, 503).client() as c,
    ):
        c.balance()
    assert (caught.value.message, caught.value.reason, caught.value.http_status) == (
        "Invalid API key",
        RejectReason.BAD_KEY,
        503,
    )


def test_it_raises_unknown_outcome_on_a_5xx_json_answer_without_error() -> None:
    with pytest.raises(UnknownOutcome) as caught, answering(BALANCE, 500).client() as client:
        client.balance()
    assert caught.value.message == "balance: HTTP 500"
    assert caught.value.http_status == 500


# --- Rejected --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 400, 401, 422])
def test_it_raises_rejected_on_an_error_answer_with_200_or_4xx(status: int) -> None:
    provider = answering({"error": "Not enough funds on balance"}, status)
    with pytest.raises(Rejected) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.message == "Not enough funds on balance"
    assert caught.value.reason == RejectReason.NOT_ENOUGH_FUNDS
    assert caught.value.http_status == status
    assert caught.value.action == "add"
    assert str(caught.value) == "Not enough funds on balance"


@pytest.mark.parametrize(
    "payload",
    [
        {"error": {"message": "Incorrect service ID"}},
        {"error": True, "message": "Incorrect service ID"},
        {"status": "error", "error": "Incorrect service ID"},
    ],
)
def test_it_reads_error_objects_in_their_variants(payload: object) -> None:
    with pytest.raises(Rejected) as caught, answering(payload).client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert (caught.value.message, caught.value.reason) == (
        "Incorrect service ID",
        RejectReason.BAD_SERVICE,
    )


def test_it_keeps_exceptions_picklable_for_celery() -> None:
    original = UnknownOutcome("add: HTTP 502", action="add", http_status=502, body_head="<html>")
    copy = pickle.loads(pickle.dumps(original))  # noqa: S301 - our own object
    assert (copy.message, copy.action, copy.http_status, copy.body_head) == (
        "add: HTTP 502",
        "add",
        502,
        "<html>",
    )


# --- the API key never leaks -----------------------------------------------------------------


def test_it_never_shows_the_key_in_repr() -> None:
    client = SMMClient(f"https://provider.example/api/v2?key={KEY}", KEY)
    assert repr(client) == "<SMMClient 'https://provider.example/api/v2?key=[api-key]'>"
    client.close()


def test_it_scrubs_the_key_from_an_error_page_that_echoes_the_request() -> None:
    page = f"<html><pre>Fatal error. POST key={KEY}&action=add and again {KEY}</pre></html>"
    provider = FakeProvider(raw(page, status=500))
    with pytest.raises(UnknownOutcome) as caught, provider.client() as client:
        client.add("1", {"link": "x", "quantity": 100})
    assert caught.value.body_head == (
        "<html><pre>Fatal error. POST key=[api-key]&action=add and again [api-key]</pre></html>"
    )
    assert KEY not in repr(caught.value)


def test_it_scrubs_the_key_from_rejections() -> None:
    provider = answering({"error": f"Invalid API key {KEY}"})
    with pytest.raises(Rejected) as caught, provider.client() as client:
        client.balance()
    assert caught.value.message == "Invalid API key [api-key]"
    assert KEY not in repr(caught.value)
    assert KEY not in str(caught.value)


def test_it_scrubs_the_key_from_transport_errors_and_drops_their_context() -> None:
    url = f"http://provider.example/api/v2?key={KEY}"
    provider = FakeProvider(httpx.ConnectError(f"Could not connect to {url}"))
    with pytest.raises(NotDelivered) as caught, provider.client(url) as client:
        client.balance()
    assert caught.value.message == (
        "balance: not delivered (ConnectError: Could not connect to "
        "http://provider.example/api/v2?key=[api-key])"
    )
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_it_scrubs_the_key_from_a_real_connection_error_with_the_key_in_the_url() -> None:
    with closed_port() as port:
        client = SMMClient(f"http://127.0.0.1:{port}/{KEY}/api/v2", KEY)
        with pytest.raises(NotDelivered) as caught, client:
            client.status("1")
    assert KEY not in repr(caught.value)


def test_it_never_logs_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    provider = FakeProvider(
        httpx.Response(200, json=[{"service": 1, "name": f"bad {KEY}", "rate": "x"}]),
        httpx.Response(200, json={"error": "Incorrect order ID"}),
        httpx.ReadTimeout(f"timed out {KEY}"),
    )
    with provider.client() as client:
        assert client.services() == []
        with pytest.raises(Rejected):
            client.status("1")
        with pytest.raises(UnknownOutcome):
            client.balance()
    assert caplog.records
    assert KEY not in caplog.text
