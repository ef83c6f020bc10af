"""Fixtures every test folder may use: real Redis and PostgreSQL servers (see ``services.py``).

* ``redis_url`` / ``postgres_url`` (session): ``MM7_TEST_REDIS_URL`` / ``MM7_TEST_DATABASE_URL``
  when set, else a throwaway server started for the session and removed at its end. A missing
  server fails the test that needs it, with how to get one: never a skip (under CI or not).
* ``redis_prefix`` (per test): a key prefix of its own; its keys are deleted afterwards.
* ``postgres_schema_url`` (per test): a URL whose sessions work in a fresh schema of their own,
  dropped afterwards.
* ``own_redis`` / ``own_postgres`` (per test): a throwaway server of the test's own, which it
  may stop, restart or crash (these need the server binaries even when the URLs are set).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from services import MissingServer, PostgresServer, RedisServer, with_search_path


def _started(factory: type[RedisServer] | type[PostgresServer]) -> RedisServer | PostgresServer:
    try:
        server = factory()
    except MissingServer as exc:
        missing = str(exc)
    else:
        server.start()
        return server
    pytest.fail(missing, pytrace=False)  # under CI or not: a failure, never a skip


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server for this test session."""
    if os.environ.get("MM7_TEST_REDIS_URL"):
        yield os.environ["MM7_TEST_REDIS_URL"]
        return
    server = _started(RedisServer)
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database for this test session."""
    if os.environ.get("MM7_TEST_DATABASE_URL"):
        yield os.environ["MM7_TEST_DATABASE_URL"]
        return
    server = _started(PostgresServer)
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix only this test uses; its keys are deleted when the test ends."""
    import redis

    prefix = f"mm7test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """``postgres_url`` working in a fresh schema (the search path), dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A throwaway Redis server only this test uses (restart it with ``.restart()``)."""
    server = _started(RedisServer)
    assert isinstance(server, RedisServer)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server only this test uses (``restart()``, ``stop("immediate")``)."""
    server = _started(PostgresServer)
    assert isinstance(server, PostgresServer)
    try:
        yield server
    finally:
        server.close()
