"""The OpenAPI schema: valid, served with its UIs (no CDN), and the API keeps to it
(Schemathesis: no 5xx, documented status codes, content types and bodies)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Service
from orders.models import Order

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_it_serves_the_schema_and_its_uis_without_a_cdn(client: Client, db: None) -> None:
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/orders/" in schema.content
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "cdn." not in html
        assert "unpkg" not in html
        assert "/static/drf_spectacular_sidecar/" in html


def test_it_documents_an_error_body_for_every_error_response(client: Client, db: None) -> None:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, code)


@pytest.fixture
def wsgi_app() -> Any:
    """The real WSGI app, kept from closing the test's connection after each request (as
    Django's test client does), so it sees the test transaction's rows."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("as_session", [False, True])
def test_it_keeps_to_its_schema(
    db: None,
    settings: Any,
    key: str,
    service: Service,
    as_session: bool,
    client: Client,
    customer: Any,
    wsgi_app: Any,
) -> None:
    settings.API_RATE_LIMIT_PER_KEY = settings.API_RATE_LIMIT_PER_IP = 100_000
    Order.objects.create(
        user=customer,
        service=service,
        provider=service.provider,
        upstream_service_id="1",
        type="Default",
        link="https://x.com/a",
        quantity=100,
        rate="1.3",
        charge="0.13",
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    headers = {} if as_session else {"X-Api-Key": key}
    if as_session:
        client.force_login(customer)
        headers["Cookie"] = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis_settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
