"""The store contract, on sqlite and on a real PostgreSQL: the same tests against both stores.

Results are read back with the user's own SQL from the platform's columns; duplicates are
recognised by the database's unique key; claims keep two consumers off the same item and end
with their lease; a store at another schema version names ``mm7 db upgrade``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
import pytest_asyncio
from store_samples import FakeSubmitResult, report

from mm7client.codec import decode, encode
from mm7client.codes import normalize_submit_status
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliveryReportRequest,
    DeliveryReportResponse,
    Part,
    SubmitRequest,
)
from mm7client.profiles import LGT
from mm7client.receiver import (
    SCHEMA_VERSION,
    ReceiverServer,
    ReceiverStore,
    StoreVersionError,
    open_store,
    upgrade_store,
)
from mm7client.receiver.stores.postgresql import PostgresStore, redacted_url

Store = Any  # SqliteStore | PostgresStore: both have the same methods


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest_asyncio.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    await upgrade_store(store_url)
    async with open_store(store_url) as opened:
        yield opened


def sql(store_url: str, query: str) -> list[tuple[Any, ...]]:
    """The user's own SQL on the store's tables."""
    if store_url.startswith("postgresql://"):
        with psycopg.connect(store_url) as conn:
            return conn.execute(query).fetchall()  # type: ignore[arg-type]
    with sqlite3.connect(store_url) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.asyncio
async def test_results_are_columns_a_users_sql_reads(store: Store, store_url: str) -> None:
    assert isinstance(store, ReceiverStore)
    added = await store.add(report(mm_status="Retrieved", status_text="NOK"), raw_body=b"<x/>")
    assert added.created and added.item.normalized is not None
    assert added.item.normalized.spam_blocked
    await store.add(report(message_id="MSG-2", mm_status="Expired", status_text=None))
    rows = sql(
        store_url,
        "SELECT message_id, recipient, provider, msgType, resultType, originResult, "
        "convertResult, resultMessage, category, attempts FROM items ORDER BY id",
    )
    assert rows == [
        ("MSG-1", "01088880001", "LGT", 2, 2, "Retrieved", -100, "NOK", "failed", 1),
        ("MSG-2", "01088880001", "LGT", 2, 2, "Expired", 3020, "NOK", "failed", 1),
    ]


@pytest.mark.asyncio
async def test_a_duplicate_is_one_row_with_more_attempts(store: Store, store_url: str) -> None:
    first = await store.add(report(transaction_id="tid-1"))
    again = await store.add(report(transaction_id="tid-2"))
    assert first.created and not again.created
    assert again.item.id == first.item.id and again.item.duplicates == 1
    assert again.item.transaction_id == "tid-1"
    assert sql(store_url, "SELECT count(*), max(attempts) FROM items") == [(1, 2)]


@pytest.mark.asyncio
async def test_concurrent_duplicates_are_stored_once(store: Store) -> None:
    results = await asyncio.gather(*(store.add(report(transaction_id=f"t{n}")) for n in range(20)))
    assert sum(result.created for result in results) == 1
    assert {result.item.id for result in results} == {results[0].item.id}
    (item,) = await store.items()
    assert item.attempts == 20


@pytest.mark.asyncio
async def test_reports_correlate_with_submits_in_columns(store: Store, store_url: str) -> None:
    submitted = normalize_submit_status(1000, "Success")
    early = (await store.add(report(message_id="MID-1"))).item
    assert early.submit is None
    request = SubmitRequest(to=["01088880001"], subject="hello", vas_id="VAS", transaction_id="t")
    await store.record_submit(request, FakeSubmitResult("MID-1", "sub-tid", submitted, 3))
    await store.record_submit(request, FakeSubmitResult(None, "failed", None))
    late = (await store.add(report(message_id="MID-1", recipient="01099990000"))).item
    for item in (await store.get(early.id), late):
        assert item is not None and item.submit is not None
        assert item.submit.transaction_id == "sub-tid"
        assert item.submit.normalized == submitted
        assert item.submit.attempts == 3
    assert sql(
        store_url,
        "SELECT message_id, vas_id, resultType, originResult, convertResult, attempts FROM submits",
    ) == [("MID-1", "VAS", 1, "1000", submitted.convert_result, 3)]


@pytest.mark.asyncio
async def test_mo_parts_round_trip(store: Store) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256))
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    message = DeliverRequest(
        transaction_id="t1",
        sender=Address("01011112222"),
        to=[Address("15881234")],
        subject="사진",
        timestamp=stamp,
        content=[
            Part("text/plain", data="안녕".encode("euc-kr"), text="안녕", charset="euc-kr"),
            Part("image/jpeg", data=jpeg, filename="a.jpg", content_id="img1"),
        ],
    )
    assert (await store.add(message)).created
    assert not (await store.add(message)).created
    (item,) = await store.pending(kind="deliver")
    assert item.subject == "사진" and item.timestamp == stamp and item.normalized is None
    assert [(p.content_type, p.data) for p in item.parts] == [
        ("text/plain", "안녕".encode("euc-kr")),
        ("image/jpeg", jpeg),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Dec 02 05:40:59 UTC 2026", datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)),
        ("yesterday-ish", None),
    ],
)
async def test_a_timestamp_that_is_not_iso_8601_is_stored_as_its_text(
    store: Store, store_url: str, text: str, expected: datetime | None
) -> None:
    # what a peer posts: Java's Date.toString(), or anything at all
    sent = encode(dataclasses.replace(report(), timestamp_raw=text), LGT)
    assert text.encode() in sent.body
    async with ReceiverServer(store) as rx, aiohttp.ClientSession() as http:
        headers = {"Content-Type": sent.content_type}
        async with http.post(rx.url, data=sent.body, headers=headers) as response:
            answer = decode(await response.read(), response.headers["Content-Type"])
    assert isinstance(answer, DeliveryReportResponse) and answer.status.code == "1000"
    (item,) = await store.pending()
    assert (item.timestamp, item.timestamp_raw) == (expected, text)  # never both None
    assert sql(store_url, "SELECT timestamp_raw, timestamp IS NULL FROM items") == [
        (text, expected is None)
    ]
    # no TimeStamp: nothing to keep; an ISO 8601 one: the date-time alone
    none = await store.add(report(message_id="MSG-2"))
    assert (none.item.timestamp, none.item.timestamp_raw) == (None, None)
    stamp = datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)
    sent = encode(dataclasses.replace(report(message_id="MSG-3"), timestamp=stamp), LGT)
    decoded = decode(sent.body, sent.content_type)
    assert isinstance(decoded, DeliveryReportRequest)
    stored = (await store.add(decoded)).item
    assert (stored.timestamp, stored.timestamp_raw) == (stamp, None)


@pytest.mark.asyncio
async def test_claims_split_items_between_consumers_and_end_with_the_lease(store: Store) -> None:
    for n in range(6):
        await store.add(report(message_id=f"M{n}"))
    first = await store.claim("consumer-a", limit=4, lease=0.5)
    second = await store.claim("consumer-b", limit=4, lease=30.0)
    assert [i.message_id for i in first] == ["M0", "M1", "M2", "M3"]
    assert [i.message_id for i in second] == ["M4", "M5"]
    assert await store.claim("consumer-b", limit=4) == []
    assert await store.mark_handled(first[0])
    await asyncio.sleep(0.7)  # consumer-a "died": its lease ends, its unhandled items come back
    again = await store.claim("consumer-c", limit=10)
    assert [i.message_id for i in again] == ["M1", "M2", "M3"]


@pytest.mark.asyncio
async def test_iter_pending_with_claims_yields_each_item_once(store: Store) -> None:
    for n in range(5):
        await store.add(report(message_id=f"M{n}"))
    seen: list[str | None] = []
    async for item in store.iter_pending(claim=True, stop_when_empty=True):
        seen.append(item.message_id)
        if item.message_id != "M2":
            await store.mark_handled(item)
    assert seen == ["M0", "M1", "M2", "M3", "M4"]
    assert [i.message_id for i in await store.pending()] == ["M2"]  # claimed, not handled


@pytest.mark.asyncio
async def test_an_empty_postgres_database_names_the_upgrade_command(
    postgres_schema_url: str,
) -> None:
    with pytest.raises(StoreVersionError) as refused:
        async with PostgresStore(postgres_schema_url):
            pass
    # the command quoted works as given: same database, same schema
    assert f"run `mm7 db upgrade --store {postgres_schema_url}`" in str(refused.value)
    assert await upgrade_store(postgres_schema_url) == (0, SCHEMA_VERSION)
    assert await upgrade_store(postgres_schema_url) == (SCHEMA_VERSION, SCHEMA_VERSION)
    async with PostgresStore(postgres_schema_url) as store:
        assert await store.pending() == []


@pytest.mark.asyncio
async def test_iter_pending_yields_stored_then_new_items_once(store: Store) -> None:
    await store.add(report(message_id="old"))
    seen: list[str | None] = []

    async def consume() -> None:
        async for item in store.iter_pending(poll_interval=5.0):
            seen.append(item.message_id)
            if item.message_id != "new-1":  # left pending: not yielded again by this iterator
                await store.mark_handled(item.id)
            if len(seen) == 3:
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    await store.add(report(message_id="new-1"))
    await store.add(report(message_id="new-2"))
    await asyncio.wait_for(consumer, 5.0)  # woken by add, not by the 5 s poll
    assert seen == ["old", "new-1", "new-2"]
    assert [i.message_id for i in await store.pending()] == ["new-1"]


@pytest.mark.asyncio
async def test_a_report_postgres_refuses_fails_alone_not_its_group(
    postgres_schema_url: str,
) -> None:
    await upgrade_store(postgres_schema_url)
    async with PostgresStore(postgres_schema_url) as store:
        reports = [report(message_id=f"M{n}") for n in range(5)]
        reports[2] = report(message_id="M2", status_text="bad\x00text")  # PostgreSQL has no NUL
        results = await asyncio.gather(*(store.add(r) for r in reports), return_exceptions=True)
        assert isinstance(results[2], ConnectionError)
        assert [r.item.message_id for r in results if not isinstance(r, BaseException)] == [
            "M0",
            "M1",
            "M3",
            "M4",
        ]
        assert len(await store.pending()) == 4


def test_the_sqlite_store_needs_no_database_driver() -> None:
    code = (
        "import sys, mm7client.receiver, mm7client.cli.receive, mm7client.cli.db\n"
        "mm7client.receiver.open_store(':memory:')\n"
        "print(','.join(m for m in ('psycopg', 'psycopg_pool', 'redis') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://mm7:s3cret@db.example:5433/mm7?sslmode=require&options=-csearch_path%3Dx",
            "postgresql://mm7@db.example:5433/mm7?sslmode=require&options=-csearch_path%3Dx",
        ),
        ("postgres://db/mm7?password=s3cret&user=mm7", "postgres://db/mm7?user=mm7"),
        ("host=db password='se cret' dbname=mm7", "host=db password=*** dbname=mm7"),
        ("postgresql://mm7@db/mm7", "postgresql://mm7@db/mm7"),
    ],
)
def test_messages_name_the_store_without_its_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
