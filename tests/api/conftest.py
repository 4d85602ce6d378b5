from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import api_key_rotate
from catalog.models import Service
from tests.factories import ServiceFactory

V2 = "/api/v2"


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(
        name="Instagram Followers",
        rate="1.30000",
        min_quantity=10,
        max_quantity=10000,
        refill=True,
        cancel=True,
    )


@pytest.fixture
def key(customer: User) -> str:
    return api_key_rotate(user=customer)


@pytest.fixture
def other_key(other_user: User) -> str:
    return api_key_rotate(user=other_user)


V2Call = Callable[..., Any]


@pytest.fixture
def v2(client: Client) -> V2Call:
    """POST the fields as a form (or `via="get"` / `via="json"`) and return the decoded JSON."""

    def call(via: str = "form", headers: dict[str, str] | None = None, **fields: Any) -> Any:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        if via == "form":
            response = client.post(V2, fields, **extra)
        elif via == "get":
            response = client.get(V2, fields, **extra)
        elif via == "json":
            response = client.post(V2, json.dumps(fields), content_type="application/json", **extra)
        else:
            raise ValueError(via)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return response.json()

    return call
