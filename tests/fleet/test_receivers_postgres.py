"""Several receivers and consumers on one PostgreSQL database (real server, real processes).

* Two ``mm7 receive`` processes share one database; the carrier posts each report to either at
  random, with duplicates, and one receiver is SIGKILLed mid-stream: every acknowledged report
  is already stored, and at the end every report is stored exactly once.
* The PostgreSQL server is restarted (crash, ``immediate``) mid-stream: no report acknowledged
  without being stored, and the receivers recover without restart.
* Two consumer processes drain one store with claims: every item handled exactly once; a
  consumer SIGKILLed mid-drain releases its claims when their lease ends.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from carrier import Carrier, delivery_report
from receiver_process import ReceiverProcess
from services import PostgresServer, with_search_path

from mm7client.receiver import ReceiverServer, upgrade_store
from mm7client.receiver.stores.postgresql import PostgresStore

REPORTS = 300
CONSUMER = Path(__file__).with_name("consumer_process.py")


def stored(url: str) -> dict[str, int]:
    """MessageID -> rows stored for it (the unique key makes more than 1 impossible)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT message_id, count(*) FROM items GROUP BY message_id").fetchall()
    return {message_id: count for message_id, count in rows}


@pytest_asyncio.fixture
async def store_url(postgres_schema_url: str) -> str:
    await upgrade_store(postgres_schema_url)
    return postgres_schema_url


@pytest.mark.asyncio
async def test_two_receivers_one_killed_every_report_stored_exactly_once(
    store_url: str, tmp_path: Path
) -> None:
    first = ReceiverProcess(
        store_url, tmp_path / "first.log", start_timeout=20.0, stop_timeout=15.0
    )
    second = ReceiverProcess(
        store_url, tmp_path / "second.log", start_timeout=20.0, stop_timeout=15.0
    )
    await asyncio.gather(first.start(), second.start())
    carrier = Carrier([first.url, second.url])
    sending = asyncio.create_task(carrier.run(range(REPORTS)))
    try:
        while len(carrier.acknowledged) < REPORTS // 3:
            assert not sending.done(), sending
            await asyncio.sleep(0.01)
        await first.kill()
        acknowledged_at_kill = set(carrier.acknowledged)
        assert len(acknowledged_at_kill) < REPORTS  # mid-stream
        on_disk = stored(store_url)
        assert acknowledged_at_kill <= set(on_disk)  # acknowledged means committed
        await asyncio.sleep(0.3)  # the carrier meets a dead receiver and retries elsewhere
        await first.start()  # same port, same database
        await asyncio.wait_for(sending, 90.0)
    finally:
        sending.cancel()
        codes = await asyncio.gather(first.stop(), second.stop())
    assert codes == [0, 0]

    final = stored(store_url)
    assert set(final) == {delivery_report(n).message_id for n in range(REPORTS)}
    assert set(final.values()) == {1}
    assert carrier.acknowledged == set(final)
    assert carrier.duplicates_acknowledged > 0 and carrier.refused > 0
    with psycopg.connect(store_url) as conn:
        arrivals = conn.execute("SELECT sum(attempts) FROM items").fetchone()
    assert arrivals is not None and arrivals[0] >= REPORTS + carrier.duplicates_acknowledged
    for log in (first.log, second.log):
        assert "Traceback" not in log.read_text()


@pytest_asyncio.fixture
async def receivers_on(own_postgres: PostgresServer) -> AsyncIterator[list[ReceiverServer]]:
    url = with_search_path(own_postgres.url, "public")
    await upgrade_store(url)
    async with (
        PostgresStore(url, acquire_timeout=1.0, connect_timeout=1.0) as a,
        PostgresStore(url, acquire_timeout=1.0, connect_timeout=1.0) as b,
        ReceiverServer(a) as first,
        ReceiverServer(b) as second,
    ):
        yield [first, second]


@pytest.mark.asyncio
async def test_postgres_restarted_mid_stream_nothing_acknowledged_unstored(
    own_postgres: PostgresServer,
    receivers_on: list[ReceiverServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mm7client")
    carrier = Carrier([rx.url for rx in receivers_on], duplicate_share=0.1)
    sending = asyncio.create_task(carrier.run(range(REPORTS)))
    try:
        while len(carrier.acknowledged) < REPORTS // 3:
            assert not sending.done(), sending
            await asyncio.sleep(0.01)
        await asyncio.to_thread(own_postgres.stop, "immediate")  # a crash of the server
        acknowledged_before = set(carrier.acknowledged)
        await asyncio.sleep(1.0)  # reports keep coming: answered with a fault, not acknowledged
        assert carrier.faults > 0
        assert len(carrier.acknowledged - acknowledged_before) <= 16  # only those in flight
        await asyncio.to_thread(own_postgres.start)
        await asyncio.wait_for(sending, 90.0)  # the same receivers recover by themselves
    finally:
        sending.cancel()
    final = stored(own_postgres.url)
    assert acknowledged_before <= set(final)
    assert set(final) == {delivery_report(n).message_id for n in range(REPORTS)}
    assert set(final.values()) == {1}
    assert carrier.acknowledged == set(final)
    # each store says once that it cannot store and once that it stores again; no tracebacks
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("mm7client")]
    assert 1 <= sum("cannot store" in m for m in messages) <= len(receivers_on)
    assert 1 <= sum("stores again" in m for m in messages) <= len(receivers_on)
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.asyncio
async def test_two_consumer_processes_handle_every_item_exactly_once(
    store_url: str, tmp_path: Path
) -> None:
    async with PostgresStore(store_url) as store:
        await asyncio.gather(*(store.add(delivery_report(n)) for n in range(REPORTS)))
    consumers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(CONSUMER),
            store_url,
            name,
            stdout=asyncio.subprocess.PIPE,
            stderr=(tmp_path / f"{name}.log").open("wb"),
        )
        for name in ("consumer-a", "consumer-b")
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(consumer.communicate() for consumer in consumers)), 60.0
    )
    assert [consumer.returncode for consumer in consumers] == [0, 0]
    handled = [[int(line) for line in stdout.decode().split()] for stdout, _ in outputs]
    assert all(handled), handled  # both took part
    every = handled[0] + handled[1]
    assert len(every) == len(set(every)) == REPORTS  # each exactly once
    with psycopg.connect(store_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT claimed_by) FROM items WHERE handled_at IS NOT NULL"
        ).fetchone()
    assert row == (REPORTS, 2)


@pytest.mark.asyncio
async def test_a_killed_consumer_releases_its_claims_when_the_lease_ends(
    store_url: str, tmp_path: Path
) -> None:
    async with PostgresStore(store_url) as store:
        await asyncio.gather(*(store.add(delivery_report(n)) for n in range(40)))

    async def consumer(name: str, lease: str, work: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(CONSUMER),
            store_url,
            name,
            lease,
            work,
            stdout=asyncio.subprocess.PIPE,
            stderr=(tmp_path / f"{name}.log").open("wb"),
        )

    doomed = await consumer("doomed", "1.0", "0.05")  # claims 10 at a time, 50 ms each
    assert doomed.stdout is not None
    handled_by_doomed = [int(await asyncio.wait_for(doomed.stdout.readline(), 20.0))]
    doomed.send_signal(signal.SIGKILL)
    rest, _ = await doomed.communicate()
    handled_by_doomed += [int(line) for line in rest.split()]
    with psycopg.connect(store_url) as conn:
        held = conn.execute(
            "SELECT count(*) FROM items WHERE handled_at IS NULL AND claimed_by = 'doomed' "
            "AND claimed_until > now()"
        ).fetchone()
    assert held is not None and held[0] > 0  # the dead consumer still holds unhandled items

    await asyncio.sleep(1.2)  # its lease ends
    survivor = await consumer("survivor", "30", "0")
    out, _ = await asyncio.wait_for(survivor.communicate(), 30.0)
    assert survivor.returncode == 0
    handled_by_survivor = [int(line) for line in out.split()]
    assert not set(handled_by_doomed) & set(handled_by_survivor)
    assert sorted(handled_by_doomed + handled_by_survivor) == sorted(
        {*handled_by_doomed, *handled_by_survivor}
    )
    assert len(handled_by_doomed) + len(handled_by_survivor) == 40
