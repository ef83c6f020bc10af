"""The test services are real: a round trip through the Redis and PostgreSQL the fixtures give."""

from __future__ import annotations

import psycopg
import redis
from services import RedisServer


def test_redis_round_trip_under_the_tests_own_prefix(redis_url: str, redis_prefix: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        client.set(redis_prefix + "greeting", "안녕", ex=60)
        assert client.get(redis_prefix + "greeting") == "안녕".encode()
        assert client.incr(redis_prefix + "counter") == 1


def test_redis_prefixes_differ_between_tests(redis_url: str, redis_prefix: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        assert client.get(redis_prefix + "greeting") is None  # the other test's key is not seen
        assert client.ping() is True


def test_postgres_round_trip_in_the_tests_own_schema(postgres_schema_url: str) -> None:
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None and schema[0].startswith("t_")
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO probe VALUES (1, %s)", ("안녕",))
        assert conn.execute("SELECT note FROM probe").fetchall() == [("안녕",)]


def test_postgres_schemas_differ_between_tests(postgres_schema_url: str) -> None:
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('probe')").fetchone()
        assert found == (None,)  # the other test's table is in another schema


def test_a_tests_own_redis_restarts_on_its_port_empty(own_redis: RedisServer) -> None:
    with redis.Redis.from_url(own_redis.url) as client:
        client.set("key", "value")
    own_redis.restart()
    with redis.Redis.from_url(own_redis.url) as client:
        assert client.get("key") is None  # a fresh server: nothing was saved
        assert client.ping() is True
