"""Reading an SMM API v2 request: form POST (canonical), query string or JSON body."""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError

from panel.inbound import is_storable, parse_count
from panel.smmapi.protocol import MAX_IDS_PER_REQUEST, Error

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Ids are bigint primary keys.
MAX_ID = 2**63 - 1
# Everything Django raises while reading a request's fields: an oversized body or too many fields
# (SuspiciousOperation), a form declared in another charset than UTF-8 (BadRequest), a broken
# multipart body, bytes that do not decode, an unknown codec, JSON nested past the stack.
UNREADABLE: tuple[type[Exception], ...] = (
    SuspiciousOperation,
    BadRequest,
    MultiPartParserError,
    UnicodeError,
    LookupError,
    ValueError,
    RecursionError,
)


class ApiError(Exception):
    """A canonical error sentence to answer with."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def read_params(request: HttpRequest) -> dict[str, str]:
    """Every field of the request as text; query string first, the body's fields win.

    Raises ApiError(Incorrect request) for anything unreadable: an oversized, malformed or
    non-UTF-8 body, JSON that is not an object, NUL characters (PostgreSQL refuses them in text)
    or lone surrogates (a JSON "\\udfff" cannot be encoded, not even to look a key up).
    """
    try:
        params = _flat(request.GET)
        if request.method == "POST" or request.META.get("CONTENT_LENGTH"):
            params.update(_body_params(request))
    except UNREADABLE:
        raise ApiError(Error.INCORRECT_REQUEST) from None
    if not all(is_storable(name) and is_storable(value) for name, value in params.items()):
        raise ApiError(Error.INCORRECT_REQUEST)
    return params


def _flat(data: QueryDict) -> dict[str, str]:
    # A repeated field counts once, with its last value (what PHP panels do).
    return {name: str(data.get(name, "")) for name in data}


def _body_params(request: HttpRequest) -> dict[str, str]:
    if request.content_type in FORM_TYPES:
        return _flat(request.POST)
    body = request.body
    if not body.strip():
        return {}
    if request.content_type == "application/json" or body.lstrip()[:1] == b"{":
        return _json_params(body)
    # No or an odd content type with a form-encoded body (curl without -H, some PHP clients).
    return _flat(QueryDict(body, encoding=request.encoding or "utf-8"))


def _json_params(body: bytes) -> dict[str, str]:
    # Numbers keep their text: a JSON 0.1 must not become a binary float on the way to money.
    payload = json.loads(body, parse_float=str, parse_int=str, parse_constant=_refuse)
    if not isinstance(payload, dict):
        raise ValueError("a JSON body must be an object")
    params: dict[str, str] = {}
    for name, value in payload.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "1" if value else "0"
        elif isinstance(value, str):
            params[name] = value
        elif isinstance(value, list) and all(
            isinstance(item, str) and "," not in item for item in value
        ):
            # "orders": [1, 2, 3] is what JSON-minded clients send for a comma list.
            params[name] = ",".join(value)
        else:
            raise ValueError(f"unsupported JSON value for {name!r}")
    return params


def _refuse(constant: str) -> str:
    raise ValueError(f"{constant} is not a number")


def parse_id(raw: str) -> int | None:
    """A positive id from its text, or None for anything else (" 12 " is fine, "1e3" is not)."""
    value = parse_count(raw)
    return value if value is not None and 0 < value <= MAX_ID else None


def split_ids(raw: str) -> list[str]:
    """The distinct ids of a comma list, in order; at most 100, else Incorrect request."""
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not ids or len(ids) > MAX_IDS_PER_REQUEST:
        raise ApiError(Error.INCORRECT_REQUEST)
    return ids


def echo_id(raw: str) -> int | str:
    """An id as it goes back in a list answer: a number when it is one (canonical), else text."""
    parsed = parse_id(raw)
    return parsed if parsed is not None else raw


def multi(params: Mapping[str, str], name: str) -> list[str] | None:
    """The ids of a multi-id field (`orders`, `refills`), or None when the request is single."""
    raw = params.get(name, "")
    return split_ids(raw) if raw.strip() else None
