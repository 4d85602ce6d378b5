"""The one table `make bench` ends with: bench/api.py's figures and the status sync at scale.

Reads var/bench/api.json and var/bench/status_sync_10p_100000.json (written by the runs before
it in scripts/bench.sh) and prints each figure with its target and pass/fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api import print_table

ROOT = Path(__file__).resolve().parent.parent
SCALE = ROOT / "var" / "bench" / "status_sync_10p_100000.json"
SYNC_TARGET_SECONDS = 20.0


def status_sync_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    metrics = result["metrics"]
    calls = metrics["expected_provider_calls"]
    rows = []
    for name, key in (("In progress", "in_progress_pass"), ("settling", "final_pass")):
        run = metrics[key]
        rows.append(
            {
                "figure": f"status sync 100k {name} s",
                "value": run["wall_seconds"],
                "target": f"<= {SYNC_TARGET_SECONDS}",
                "pass": run["wall_seconds"] <= SYNC_TARGET_SECONDS,
            }
        )
        rows.append(
            {
                "figure": f"status sync {name} calls",
                "value": run["provider_calls"],
                "target": f"== {calls}",
                "pass": run["provider_calls"] == calls,
            }
        )
    rows.append(
        {
            "figure": "status sync ledger equals balance",
            "value": metrics["ledger_matches_balance"],
            "target": "yes",
            "pass": metrics["ledger_matches_balance"] is True,
        }
    )
    return rows


def main() -> None:
    api = json.loads((ROOT / "var" / "bench" / "api.json").read_text())
    rows = list(api["metrics"]["table"]) + status_sync_rows(json.loads(SCALE.read_text()))
    print_table({"metrics": {"table": rows}})


if __name__ == "__main__":
    main()
