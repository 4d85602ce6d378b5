"""Exit 0 when the test PostgreSQL and Redis answer; otherwise print which did not and exit 1."""

import os
import sys

import psycopg
import redis

failures = []
try:
    url = os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.Error as exc:
    failures.append(f"PostgreSQL ({exc.__class__.__name__})")
try:
    redis.Redis.from_url(os.environ["TEST_REDIS_URL"], socket_connect_timeout=3).ping()
except redis.RedisError as exc:
    failures.append(f"Redis ({exc.__class__.__name__})")
if failures:
    print(" and ".join(failures))
    sys.exit(1)
