"""What the benchmarks share: a fresh PostgreSQL database of their own for every run."""

import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/upline_bench"


def bench_database_url(suffix: str) -> str:
    """`<BENCH_DATABASE_URL>_<suffix>`: each benchmark seeds a database of its own."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL).rstrip("/") + f"_{suffix}"


def ensure_database(url: str) -> None:
    """Drop and recreate the benchmark database, so every run starts from the same state and
    migrations renamed since an earlier run cannot collide."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
