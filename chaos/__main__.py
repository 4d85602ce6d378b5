"""``python -m chaos [--only 1,4] [--load-seconds 300]``: run the chaos suite; exit 1 on a FAIL."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable

from chaos.stack import VAR, Stack, panel_env

DEADLINE_SECONDS = 25 * 60


def create_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(f"chaos: stopped by signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Upline's chaos suite (issue 16).")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="scenario numbers, e.g. 1,4")
    parser.add_argument("--load-seconds", type=float, default=300, help="scenario 7's length")
    args = parser.parse_args()
    selected = [int(part) for part in args.only.split(",") if part.strip()]

    # Bounded and self-stopping: a TERM (or running past the deadline) still stops the stack.
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGALRM, _exit)
    signal.alarm(DEADLINE_SECONDS)
    stack = Stack()
    os.environ.update(panel_env(stack.ports))
    results = []
    started = time.monotonic()
    world = None
    try:
        stack.start_stores()
        create_database(os.environ["DATABASE_URL"])
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        stack.start_panel()

        from chaos.scenarios.faults import garbage_status_sync, provider_faults
        from chaos.scenarios.load import mixed_load
        from chaos.scenarios.money import concurrent_adds
        from chaos.scenarios.processes import (
            StackWorld,
            postgres_restart,
            redis_down,
            worker_kills,
        )
        from chaos.world import Result

        world = StackWorld(stack)
        scenarios: dict[int, tuple[str, Callable[[StackWorld], Result]]] = {
            1: ("concurrent adds", concurrent_adds),
            2: ("provider faults while forwarding", provider_faults),
            3: ("worker SIGKILLed while forwarding", worker_kills),
            4: ("Redis stopped during placement", redis_down),
            5: ("PostgreSQL restarted", postgres_restart),
            6: ("status sync on garbage", garbage_status_sync),
            7: ("mixed load", lambda w: mixed_load(w, seconds=args.load_seconds)),
        }
        print(f"chaos: stack up in {time.monotonic() - started:.0f} s; logs in {VAR / 'logs'}")
        for number in selected:
            title, scenario = scenarios[number]
            began = time.monotonic()
            try:
                result = scenario(world)
            except Exception as exc:
                result = Result(number, title, False, f"crashed: {exc!r}", [repr(exc)])
            result.seconds = time.monotonic() - began
            dead = stack.dead()
            if dead:
                result.passed = False
                result.problems.append(f"died during the scenario: {', '.join(dead)}")
                for process in (stack.web, stack.worker, stack.beat):
                    if not process.alive:
                        process.start()
            results.append(result)
            print(result.line(), flush=True)
            for problem in result.problems[:12]:
                print(f"      {problem}", flush=True)
    finally:
        if world is not None:
            world.close()
        stack.stop()
    total = time.monotonic() - started
    print(f"chaos: {sum(r.passed for r in results)}/{len(results)} passed in {total:.0f} s")
    (VAR / "results.json").write_text(
        json.dumps(
            {
                "seconds": round(total),
                "results": [
                    {
                        "scenario": r.number,
                        "title": r.title,
                        "passed": r.passed,
                        "figures": r.figures,
                        "seconds": round(r.seconds),
                        "problems": r.problems,
                    }
                    for r in results
                ],
            },
            indent=2,
        )
        + "\n"
    )
    rows = [
        f"| {r.number} | {r.title} | {r.figures} | {'pass' if r.passed else 'FAIL'} |"
        for r in results
    ]
    table = ["| # | scenario | figures | result |", "|---|---|---|---|", *rows]
    (VAR / "results.md").write_text("\n".join(table) + "\n")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
