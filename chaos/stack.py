"""The real processes a chaos run starts, breaks and stops.

Everything is its own and on loopback: a Redis server and a PostgreSQL cluster under
``var/chaos/`` (never the machine's shared ones, which scenarios would otherwise stop), gunicorn
serving the panel, one Celery worker, one beat and the simulator. ``Stack.stop()`` ends them all;
``python -m chaos`` calls it whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "chaos"
VENV_BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SIM_KEY = "sim-key"
# The simulator's "read timeout" fault sleeps longer than the panel waits for an answer.
SIM_TIMEOUT_SECONDS = 4


@dataclass(frozen=True)
class Ports:
    redis: int = 6391
    postgres: int = 5441
    web: int = 8891
    simulator: int = 9891


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, *, up: bool, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while port_open(port) != up:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not {'start' if up else 'stop'} within {timeout:.0f} s")
        time.sleep(0.1)


def panel_env(ports: Ports) -> dict[str, str]:
    """The environment of every panel process (and of the harness itself)."""
    redis = f"redis://127.0.0.1:{ports.redis}"
    return {
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "DJANGO_DEBUG": "true",
        "UPLINE_VAR_DIR": str(VAR / "var"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{ports.postgres}/upline_chaos",
        "CELERY_BROKER_URL": f"{redis}/0",
        "CACHE_URL": f"{redis}/1",
        "LOG_LEVEL": "WARNING",
        # Short enough that stuck sends reach review within a scenario, and still well above
        # connect + read timeout (the README's rule), so the sweeper never races a live call.
        "ORDERS_SENDING_TIMEOUT_SECONDS": "30",
        "SMMAPI_CONNECT_TIMEOUT": "1",
        "SMMAPI_READ_TIMEOUT": "2",
        "SMMAPI_ALLOW_PRIVATE_HOSTS": "true",  # the simulator listens on loopback
        # The scenarios measure faults, not the rate limiters.
        "API_RATE_LIMIT_PER_KEY": "1000000",
        "API_RATE_LIMIT_PER_IP": "1000000",
        "WEB_RATE_LIMIT_ORDER": "100000",
        "WEB_RATE_LIMIT_LIVE": "100000",
    }


@dataclass
class Process:
    """One child process in its own session, so a kill reaches its children (prefork pool)."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return VAR / "logs" / f"{self.name}.log"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603 - our own fixed argv
            list(self.argv),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group and reap the leader."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.kill(signal.SIGTERM)
        elif self.popen is not None:
            # The leader is gone; make sure no orphaned child of its group is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)


class Postgres:
    """A throw-away PostgreSQL cluster in ``var/chaos/pg``, run as the ``postgres`` user when
    we are root (PostgreSQL refuses to run as root)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.data = VAR / "pg"

    def _run(self, *argv: str, check: bool = True) -> None:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(  # noqa: S603 - our own fixed argv
            command, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def init(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True)
        self.data.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        # fsync off is safe here: the scenarios crash PostgreSQL, never the machine. Commits
        # stay synchronous: an asynchronous commit lost in a crash would look like our bug.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c full_page_writes=off -c max_connections=300"
        )
        log = self.data / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-o", options, "start")
        wait_port(self.port, up=True, timeout=30, what="PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Crash and recover: an immediate stop drops every connection mid-statement."""
        self.stop("immediate")
        self.start()


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process = Process(
            "redis",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(VAR),
            ],
            env=dict(os.environ),
        )

    def start(self) -> None:
        self.process.start()
        wait_port(self.port, up=True, timeout=10, what="Redis")

    def stop(self) -> None:
        self.process.stop()
        wait_port(self.port, up=False, timeout=10, what="Redis")


@dataclass
class Stack:
    ports: Ports = field(default_factory=Ports)
    worker_concurrency: int = 4

    def __post_init__(self) -> None:
        self.env = {**os.environ, **panel_env(self.ports)}
        self.postgres = Postgres(self.ports.postgres)
        self.redis = Redis(self.ports.redis)
        python, celery = str(VENV_BIN / "python"), str(VENV_BIN / "celery")
        self.web = Process(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "panel.wsgi",
                "--bind",
                f"127.0.0.1:{self.ports.web}",
                "--workers",
                "3",
                "--threads",
                "8",
                "--timeout",
                "60",
            ],
            self.env,
        )
        self.worker = Process(
            "worker",
            [
                celery,
                "-A",
                "panel",
                "worker",
                "-l",
                "WARNING",
                "-c",
                str(self.worker_concurrency),
                "-n",
                "chaos@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.env,
        )
        self.beat = Process(
            "beat",
            [
                celery,
                "-A",
                "panel",
                "beat",
                "-l",
                "WARNING",
                "--pidfile",
                str(VAR / "beat.pid"),
            ],
            self.env,
        )
        self.simulator = Process(
            "simulator",
            [
                python,
                "manage.py",
                "simulate_provider",
                "--port",
                str(self.ports.simulator),
                "--key",
                SIM_KEY,
                "--balance",
                "10000000",
                "--speed",
                "3600",
                "--timeout-seconds",
                str(SIM_TIMEOUT_SECONDS),
            ],
            self.env,
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}/api/v2"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.simulator}"

    def start_stores(self) -> None:
        """Our own Redis and PostgreSQL (a fresh cluster every run)."""
        for port, what in ((self.ports.redis, "Redis"), (self.ports.postgres, "PostgreSQL")):
            if port_open(port):
                raise RuntimeError(f"port {port} for the chaos {what} is already in use")
        VAR.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(VAR / "logs", ignore_errors=True)
        self.redis.start()
        self.postgres.init()
        self.postgres.start()

    def start_panel(self) -> None:
        for port in (self.ports.web, self.ports.simulator):
            if port_open(port):
                raise RuntimeError(f"port {port} for the chaos stack is already in use")
        self.simulator.start()
        wait_port(self.ports.simulator, up=True, timeout=30, what="the simulator")
        self.web.start()
        self.worker.start()
        self.beat.start()
        wait_port(self.ports.web, up=True, timeout=60, what="gunicorn")

    def restart_worker(self) -> None:
        self.worker.kill(signal.SIGKILL)
        self.worker.start()

    def dead(self) -> list[str]:
        """Names of panel processes that exited on their own."""
        return [p.name for p in (self.web, self.worker, self.beat, self.simulator) if not p.alive]

    def stop(self) -> None:
        for process in (self.beat, self.worker, self.web, self.simulator):
            process.stop()
        self.redis.process.stop()
        self.postgres.stop("fast")
