"""The one reading of what customers send: numbers and texts from both APIs and the web forms.

Why strict: Python's ``int()`` reads ``١٠٠``, ``１００``, ``+100``, ``1_000`` and ``0100``. A
customer charged for the number we parsed must have exactly that number sent upstream, and a
PHP provider reading ``1_000`` delivers 1 unit. So a count is ASCII digits only, and what goes
upstream is always rebuilt from the parsed value (``str(number)``), never the customer's text.
Texts refuse lone surrogates (they cannot be encoded, not even to reach PostgreSQL) and control
characters (NUL cannot be stored; the others only ever come from tools gone wrong).
"""

from __future__ import annotations

import re

# Bigint primary keys have 19 digits; no count we accept needs more.
MAX_DIGITS = 19
_COUNT = re.compile(r"0|[1-9][0-9]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 control characters and DEL; multi-line texts may keep tab, LF and CR.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def parse_count(raw: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """A non-negative whole number written in ASCII decimal digits, else None.

    Surrounding spaces are ignored; a sign, underscores, leading zeros ("0100"), other scripts'
    digits, decimals ("1.0", "1e3") and more than ``max_digits`` digits are not numbers here.
    Integers (not booleans) are taken as they are, for JSON bodies.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw < 10**max_digits else None
    if not isinstance(raw, str):
        return None
    text = raw.strip(" \t\r\n")
    if len(text) > max_digits or not _COUNT.fullmatch(text):
        return None
    return int(text)


def is_storable(text: str) -> bool:
    """False for text that cannot even be encoded or stored: a lone surrogate or a NUL."""
    return "\x00" not in text and not _SURROGATE.search(text)


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why the text cannot be taken ("surrogate" or "control"), or None when it is clean."""
    if _SURROGATE.search(text):
        return "surrogate"
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        return "control"
    return None
