"""The API v2 documentation shown on the customer's API page.

The action list comes from the live endpoint's table (`orders.api.v2.actions.ACTIONS`), so a
documented action always exists; each action's parameters and sample answer are written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from orders.api.v2.actions import ACTIONS


@dataclass(frozen=True)
class ApiParam:
    name: str
    description: Promise | str


@dataclass(frozen=True)
class ApiAction:
    name: str
    summary: Promise | str
    params: tuple[ApiParam, ...]
    example: str


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


_KEY = ApiParam("key", _("Your API key"))

_DOCS: dict[str, tuple[Promise, tuple[ApiParam, ...], object]] = {
    "services": (
        _("List the services you can order, with your own rates (per 1000)."),
        (),
        [
            {
                "service": 1,
                "name": "Instagram Followers",
                "type": "Default",
                "category": "Instagram",
                "rate": "0.90",
                "min": "50",
                "max": "10000",
                "refill": True,
                "cancel": True,
                "dripfeed": False,
                "desc": "",
            }
        ],
    ),
    "add": (
        _("Place an order. The fields depend on the service type; see the table below."),
        (
            ApiParam("service", _("Service ID")),
            ApiParam("link", _("Link to the page or post")),
            ApiParam("quantity", _("Quantity")),
            ApiParam("runs", _("Drip-feed: number of runs (optional)")),
            ApiParam("interval", _("Drip-feed: minutes between runs (optional)")),
        ),
        {"order": 23501},
    ),
    "status": (
        _("Status of one order (order) or of up to 100 orders (orders, comma separated)."),
        (ApiParam("order", _("Order ID")), ApiParam("orders", _("Order IDs, comma separated"))),
        {
            "charge": "0.27819",
            "start_count": "3572",
            "status": "Partial",
            "remains": "157",
            "currency": "USD",
        },
    ),
    "refill": (
        _("Request a refill of one order (order) or of up to 100 orders (orders)."),
        (ApiParam("order", _("Order ID")), ApiParam("orders", _("Order IDs, comma separated"))),
        {"refill": "1"},
    ),
    "refill_status": (
        _("Status of one refill (refill) or of up to 100 refills (refills)."),
        (
            ApiParam("refill", _("Refill ID")),
            ApiParam("refills", _("Refill IDs, comma separated")),
        ),
        {"status": "Completed"},
    ),
    "cancel": (
        _("Cancel up to 100 orders."),
        (ApiParam("orders", _("Order IDs, comma separated")),),
        [{"order": 2, "cancel": 1}, {"order": 9, "cancel": {"error": "Incorrect order ID"}}],
    ),
    "balance": (
        _("Your current balance."),
        (),
        {"balance": "100.84292", "currency": "USD"},
    ),
}


def api_actions() -> list[ApiAction]:
    """Every action the endpoint answers, in its own order."""
    actions = []
    for name in ACTIONS:
        summary, params, example = _DOCS.get(name, (_("See the SMM API v2 reference."), (), {}))
        actions.append(
            ApiAction(
                name=name,
                summary=summary,
                params=(_KEY, ApiParam("action", name), *params),
                example=_json(example),
            )
        )
    return actions


def api_examples(*, api_url: str, key: str) -> dict[str, str]:
    """Ready-to-run snippets (curl, PHP, Python) placing an order at this panel."""
    curl = (
        f"curl -X POST {api_url} \\\n"
        f"  -d key={key} \\\n"
        "  -d action=add -d service=1 \\\n"
        "  -d link=https://instagram.com/example -d quantity=100\n\n"
        f"curl -X POST {api_url} -d key={key} -d action=status -d order=23501"
    )
    php = (
        "<?php\n"
        f"$api = '{api_url}';\n"
        f"$key = '{key}';\n\n"
        "function call_api($api, $params) {\n"
        "    $ch = curl_init($api);\n"
        "    curl_setopt($ch, CURLOPT_POST, true);\n"
        "    curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($params));\n"
        "    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);\n"
        "    $answer = curl_exec($ch);\n"
        "    curl_close($ch);\n"
        "    return json_decode($answer, true);\n"
        "}\n\n"
        "$order = call_api($api, ['key' => $key, 'action' => 'add', 'service' => 1,\n"
        "    'link' => 'https://instagram.com/example', 'quantity' => 100]);\n"
        "$status = call_api($api, ['key' => $key, 'action' => 'status',\n"
        "    'order' => $order['order']]);\n"
        "print_r($status);\n"
    )
    python = (
        "import requests\n\n"
        f'API = "{api_url}"\n'
        f'KEY = "{key}"\n\n'
        "def call(action, **params):\n"
        "    data = {'key': KEY, 'action': action, **params}\n"
        "    answer = requests.post(API, data=data, timeout=30)\n"
        "    return answer.json()\n\n"
        "order = call('add', service=1, link='https://instagram.com/example', quantity=100)\n"
        "print(call('status', order=order['order']))\n"
        "print(call('balance'))\n"
    )
    return {"curl": curl, "php": php, "python": python}
