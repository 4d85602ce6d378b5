"""``python manage.py simulate_provider``: run the provider simulator in the foreground."""

from __future__ import annotations

import logging
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from simulator import Knobs, SimState, Simulator
from simulator.money import fmt_money


class Command(BaseCommand):
    help = "Run a simulated SMM API v2 provider (in memory; never touches the panel database)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument("--services", type=int, default=50, help="catalogue size")
        parser.add_argument("--key", default="sim-key", help="the accepted API key")
        parser.add_argument("--balance", default="1000.00", help="starting provider balance")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--frozen-clock", action="store_true", help="orders move only via /_control advance"
        )
        parser.add_argument("--log-requests", action="store_true")

        life = parser.add_argument_group("order life")
        life.add_argument("--speed", type=float, default=20.0, help="seconds from Pending to final")
        life.add_argument("--partial-share", type=float, default=0.1)
        life.add_argument("--cancel-share", type=float, default=0.05)
        life.add_argument("--refill-reject-share", type=float, default=0.0)
        life.add_argument("--allow-duplicate-links", action="store_true")

        faults = parser.add_argument_group("faults (rates are shares of requests, 0..1)")
        faults.add_argument("--latency-ms", type=int, default=0)
        faults.add_argument("--rate-limit-rate", type=float, default=0.0, help="HTTP 429")
        faults.add_argument("--error-rate", type=float, default=0.0)
        faults.add_argument("--error-text", default="Incorrect request")
        faults.add_argument("--http-5xx-rate", type=float, default=0.0)
        faults.add_argument("--http-5xx-status", type=int, default=500)
        faults.add_argument("--http-5xx-after", action="store_true", help="run the action first")
        faults.add_argument("--html-rate", type=float, default=0.0, help="Cloudflare-like 502")
        faults.add_argument("--invalid-json-rate", type=float, default=0.0)
        faults.add_argument("--timeout-rate", type=float, default=0.0)
        faults.add_argument("--timeout-seconds", type=float, default=30.0)
        faults.add_argument("--funds-rate", type=float, default=0.0)
        faults.add_argument("--odd-status-rate", type=float, default=0.0)
        faults.add_argument("--int-numbers-rate", type=float, default=0.0)
        faults.add_argument("--fault-actions", default="", help="comma list, e.g. add,status")

    def handle(self, *args: Any, **options: Any) -> None:
        knobs = Knobs()
        try:
            knobs.update(
                {
                    "speed": options["speed"],
                    "partial_share": options["partial_share"],
                    "cancel_share": options["cancel_share"],
                    "refill_reject_share": options["refill_reject_share"],
                    "check_duplicate_links": not options["allow_duplicate_links"],
                    "latency_ms": options["latency_ms"],
                    "rate_limit_rate": options["rate_limit_rate"],
                    "error_rate": options["error_rate"],
                    "error_text": options["error_text"],
                    "http_5xx_rate": options["http_5xx_rate"],
                    "http_5xx_status": options["http_5xx_status"],
                    "http_5xx_after": options["http_5xx_after"],
                    "html_rate": options["html_rate"],
                    "invalid_json_rate": options["invalid_json_rate"],
                    "timeout_rate": options["timeout_rate"],
                    "timeout_seconds": options["timeout_seconds"],
                    "funds_rate": options["funds_rate"],
                    "odd_status_rate": options["odd_status_rate"],
                    "int_numbers_rate": options["int_numbers_rate"],
                    "actions": options["fault_actions"] or None,
                }
            )
            state = SimState(
                services=options["services"],
                seed=options["seed"],
                key=options["key"],
                balance=options["balance"],
                knobs=knobs,
                frozen_clock=options["frozen_clock"],
            )
            sim = Simulator(
                state,
                host=options["host"],
                port=options["port"],
                log_requests=options["log_requests"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc

        if options["log_requests"]:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        self.stdout.write(
            f"Simulated provider on {sim.url} (key {sim.key!r}, "
            f"{len(state.services())} services, balance {fmt_money(state.balance)}); "
            f"control at {sim.control_url}. Ctrl-C to stop."
        )
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
