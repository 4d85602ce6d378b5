"""Run-time knobs of the simulator: how orders progress and which faults to inject."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

# The faults, in the order they are tried. "Before" faults answer without running the action;
# "after" faults run it (the order is stored) and then spoil the answer.
FAULTS = (
    "latency_ms",
    "rate_limit_rate",
    "html_rate",
    "http_5xx_rate",
    "error_rate",
    "funds_rate",
    "timeout_rate",
    "invalid_json_rate",
    "odd_status_rate",
    "int_numbers_rate",
)


@dataclass
class Knobs:
    # Order life: seconds from Pending to the final status, and the share of orders that end
    # Partial / Canceled (decided when the order is added).
    speed: float = 20.0
    partial_share: float = 0.1
    cancel_share: float = 0.05
    refill_reject_share: float = 0.0
    # Answer "You have active order with this link" for a second active order on a link.
    check_duplicate_links: bool = True

    latency_ms: int = 0
    rate_limit_rate: float = 0.0  # HTTP 429 {"error": "Too many requests"}; the action does not run
    error_rate: float = 0.0  # answer {"error": error_text}; the action does not run
    error_text: str = "Incorrect request"
    http_5xx_rate: float = 0.0  # answer http_5xx_status with a JSON error
    http_5xx_status: int = 500
    http_5xx_after: bool = False  # run the action first (the outcome is then really unknown)
    html_rate: float = 0.0  # a Cloudflare-like 502 HTML page; the action does not run
    invalid_json_rate: float = 0.0  # HTTP 200 with a PHP warning before the JSON; action ran
    timeout_rate: float = 0.0  # run the action, then sleep timeout_seconds before answering
    timeout_seconds: float = 30.0
    funds_rate: float = 0.0  # "Not enough funds on balance" on add, whatever the balance
    odd_status_rate: float = 0.0  # status strings as "in_progress", "Cancelled", "processing"…
    int_numbers_rate: float = 0.0  # numbers as JSON numbers instead of strings
    # Order ids answered as this prefix + the number (some providers use long string ids);
    # either form is accepted back.
    order_id_prefix: str = ""
    # Refuse a whole multi-id status or refill_status call ({"error": "Incorrect order ID"} /
    # "Refill not found") when one of its ids is unknown, as some panels do, instead of
    # answering per id.
    reject_batch_on_bad_id: bool = False

    # Faults apply only to these actions (None: all); ``scopes`` narrows single faults,
    # e.g. {"timeout_rate": ["add"]}.
    actions: list[str] | None = None
    scopes: dict[str, list[str]] = field(default_factory=dict)

    def applies(self, fault: str, action: str) -> bool:
        scope = self.scopes.get(fault, self.actions)
        return scope is None or action in scope

    def update(self, changes: Mapping[str, object]) -> None:
        """Set knobs from loosely typed input (CLI, JSON); raise ValueError on a bad one."""
        coerced = {name: _coerce(self, name, value) for name, value in changes.items()}
        for name, value in coerced.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def copy(self) -> Knobs:
        return Knobs(**asdict(self))


_NAMES = {f.name for f in fields(Knobs)}
_SHARES = {"partial_share", "cancel_share", "refill_reject_share"} | {
    name for name in FAULTS if name.endswith("_rate")
}


def _coerce(knobs: Knobs, name: str, value: object) -> object:
    if name not in _NAMES:
        raise ValueError(f"Unknown knob: {name}")
    if name == "actions":
        return None if value is None else _action_list(value)
    if name == "scopes":
        if not isinstance(value, Mapping):
            raise ValueError("scopes must map a fault knob to a list of actions")
        scopes = {}
        for fault, actions in value.items():
            if fault not in FAULTS:
                raise ValueError(f"Unknown fault knob in scopes: {fault}")
            scopes[str(fault)] = _action_list(actions)
        return scopes
    current = getattr(knobs, name)
    try:
        if isinstance(current, bool):
            coerced: object = parse_bool(value)
        elif isinstance(current, int):
            coerced = int(str(value))
        elif isinstance(current, float):
            coerced = float(str(value))
        else:
            coerced = str(value)
    except ValueError as exc:
        raise ValueError(f"Bad value for {name}: {value!r}") from exc
    if isinstance(coerced, int | float) and not isinstance(coerced, bool):
        if coerced < 0:
            raise ValueError(f"{name} must not be negative")
        if name in _SHARES and coerced > 1:
            raise ValueError(f"{name} is a share between 0 and 1")
    return coerced


def parse_bool(value: object) -> bool:
    """Booleans as sent in the wild: true, 1, "1", "yes", "on"."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _action_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(part).strip() for part in value]
    raise ValueError("actions must be a list or a comma-separated string")


@dataclass
class FaultPlan:
    """What to do to one request, rolled once when it arrives."""

    latency: float = 0.0
    before: str | None = None  # "rate_limit", "html", "5xx", "error", "funds"
    after: str | None = None  # "timeout", "invalid_json", "5xx"
    odd_status: bool = False
    int_numbers: bool = False


def roll_faults(knobs: Knobs, action: str, rng: random.Random) -> FaultPlan:
    """Decide the faults for one request. A rate of 0 never consumes randomness."""

    def hit(name: str) -> bool:
        rate = float(getattr(knobs, name))
        return rate > 0 and knobs.applies(name, action) and rng.random() < rate

    plan = FaultPlan()
    if knobs.latency_ms and knobs.applies("latency_ms", action):
        plan.latency = knobs.latency_ms / 1000
    if hit("rate_limit_rate"):
        plan.before = "rate_limit"
    elif hit("html_rate"):
        plan.before = "html"
    elif hit("http_5xx_rate"):
        if knobs.http_5xx_after:
            plan.after = "5xx"
        else:
            plan.before = "5xx"
    elif hit("error_rate"):
        plan.before = "error"
    elif action == "add" and hit("funds_rate"):
        plan.before = "funds"
    if plan.before is None and plan.after is None:
        if hit("timeout_rate"):
            plan.after = "timeout"
        elif hit("invalid_json_rate"):
            plan.after = "invalid_json"
    plan.odd_status = hit("odd_status_rate")
    plan.int_numbers = hit("int_numbers_rate")
    return plan
