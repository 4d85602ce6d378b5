"""gunicorn settings of the web process: `gunicorn -c python:panel.gunicorn_conf panel.wsgi`."""

from __future__ import annotations

from typing import Any


def on_starting(server: Any) -> None:
    # The master, before any worker exists: empty PROMETHEUS_MULTIPROC_DIR (panel.metrics).
    from panel.metrics import metrics_dir_reset

    metrics_dir_reset()
