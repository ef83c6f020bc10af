"""Stores written by a previous version open after ``mm7 db upgrade``, with nothing lost.

* ``golden/receiver-store-v1.sql``: a sqlite store of the first layout (results as a JSON blob):
  reports (one resent, one handled), a read reply, an MO message with a part and a recorded
  submit. Upgraded, every result is in the platform's columns.
* ``golden/receiver-store-v2.sql`` and ``receiver-store-v2-postgresql.sql``: version 2, written
  before ``timestamp_raw`` existed, in both stores: a Java ``Date.toString()`` TimeStamp and an
  unreadable one were stored as NULL. Upgraded, every row is kept and both come back from the
  raw bodies the store kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from mm7client.cli import main as mm7
from mm7client.model import Address, DeliveryReportRequest
from mm7client.receiver import SCHEMA_VERSION, SqliteStore, StoreVersionError, open_store

GOLDEN = Path(__file__).parent.parent / "golden"
DUMP = GOLDEN / "receiver-store-v1.sql"


@pytest.fixture
def v1_store(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    return path


def v1_rows(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        items = [dict(row) for row in conn.execute("SELECT * FROM items ORDER BY id")]
        submits = [dict(row) for row in conn.execute("SELECT * FROM submits")]
    return items, submits


@pytest.mark.asyncio
async def test_an_old_store_is_refused_then_upgraded_without_loss(
    v1_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_items, old_submits = v1_rows(v1_store)
    assert len(old_items) == 6 and len(old_submits) == 1
    rejected_convert = json.loads(old_items[3]["normalized"])["convert_result"]

    with pytest.raises(StoreVersionError, match=r"version 1.*run `mm7 db upgrade --store "):
        async with SqliteStore(v1_store):
            pass
    assert await asyncio.to_thread(mm7, ["db", "version", "--store", str(v1_store)]) == 3

    assert await asyncio.to_thread(mm7, ["db", "upgrade", "--store", str(v1_store)]) == 0
    assert f"schema version 1 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    assert await asyncio.to_thread(mm7, ["db", "upgrade", "--store", str(v1_store)]) == 0
    assert "already up to date" in capsys.readouterr().out

    async with SqliteStore(v1_store) as store:
        items = await store.items()
        assert [i.id for i in items] == [row["id"] for row in old_items]
        for item, old in zip(items, old_items, strict=True):
            assert (item.kind, item.message_id, item.recipient, item.mm_status) == (
                old["kind"],
                old["message_id"],
                old["recipient"],
                old["mm_status"],
            )
            assert item.duplicates == old["duplicates"]
            assert (item.handled_at is None) == (old["handled_at"] is None)
            expected = json.loads(old["normalized"]) if old["normalized"] else None
            if expected is None:
                assert item.normalized is None
            else:
                assert item.normalized is not None
                got = {f: getattr(item.normalized, f) for f in expected}
                assert got == expected
        (mo,) = [i for i in items if i.kind == "deliver"]
        assert mo.parts[0].text == "안녕" and mo.subject == "사진"
        submit = await store.find_submit("MID-1")
        assert submit is not None and submit.vas_id == "VAS"
        assert submit.normalized is not None
        assert {
            f: getattr(submit.normalized, f) for f in json.loads(old_submits[0]["normalized"])
        } == json.loads(old_submits[0]["normalized"])
        # the upgraded file keeps working: an old report resent is a duplicate, a new one is new
        resent = DeliveryReportRequest(
            message_id="MID-2",
            recipient=Address("01088880001"),
            mm_status="Retrieved",
            status_text="NOK",
        )
        again = await store.add(resent)
        assert not again.created and again.item.attempts == 2
        assert (await store.add(dataclasses.replace(resent, message_id="MID-9"))).created
    with sqlite3.connect(v1_store) as conn:
        assert conn.execute(
            "SELECT message_id, originResult, convertResult, resultMessage, attempts FROM items "
            "WHERE kind = 'delivery_report' ORDER BY id"
        ).fetchall() == [
            ("MID-1", "Retrieved", -100, "OK", 2),
            ("MID-2", "Retrieved", -100, "NOK", 2),
            ("MID-3", "Expired", 3020, "NOK", 1),
            ("MID-4", "Rejected", rejected_convert, "NOK", 1),
            ("MID-9", "Retrieved", -100, "NOK", 1),
        ]


def test_mm7_receive_on_an_old_store_names_the_upgrade_command(
    v1_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert mm7(["receive", "--port", "0", "--store", str(v1_store)]) == 2
    error = capsys.readouterr().err
    assert f"has schema version 1; this mm7client needs version {SCHEMA_VERSION}" in error
    assert f"run `mm7 db upgrade --store {v1_store}`" in error


@pytest.fixture(params=["sqlite", "postgresql"])
def v2_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A version-2 store loaded from its dump: a sqlite file or a PostgreSQL schema's URL."""
    if request.param == "sqlite":
        path = tmp_path / "v2.sqlite"
        with sqlite3.connect(path) as conn:
            conn.executescript((GOLDEN / "receiver-store-v2.sql").read_text(encoding="utf-8"))
        return str(path)
    url: str = request.getfixturevalue("postgres_schema_url")
    dump = (GOLDEN / "receiver-store-v2-postgresql.sql").read_text(encoding="utf-8")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(dump)
    return url


def all_rows(store: str, table: str) -> list[dict[str, Any]]:
    """Every row of ``table`` as the database holds it, in key order."""
    query = f"SELECT * FROM {table} ORDER BY 1, 2"
    if store.startswith("postgresql://"):
        with psycopg.connect(store, row_factory=dict_row) as conn:
            return conn.execute(query).fetchall()
    with sqlite3.connect(store) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(query)]


@pytest.mark.asyncio
async def test_a_version_2_store_upgrades_keeping_every_row_and_recovering_timestamps(
    v2_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {table: all_rows(v2_store, table) for table in ("items", "parts", "submits")}
    assert len(before["items"]) == 6 and len(before["parts"]) == 1 and len(before["submits"]) == 1
    with pytest.raises(StoreVersionError, match=r"version 2.*run `mm7 db upgrade --store "):
        async with open_store(v2_store):
            pass

    assert await asyncio.to_thread(mm7, ["db", "upgrade", "--store", v2_store]) == 0
    assert f"schema version 2 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    assert await asyncio.to_thread(mm7, ["db", "upgrade", "--store", v2_store]) == 0
    assert "already up to date" in capsys.readouterr().out

    # every row kept, every column as it was; only the lost TimeStamps were filled in
    assert all_rows(v2_store, "parts") == before["parts"]
    assert all_rows(v2_store, "submits") == before["submits"]
    for old, new in zip(before["items"], all_rows(v2_store, "items"), strict=True):
        assert new.pop("timestamp_raw") == (
            {"MID-3": "Wed Dec 02 05:40:59 UTC 2026", "MID-4": "yesterday-ish"}.get(
                old["message_id"]
            )
        )
        if old["message_id"] == "MID-3":
            assert old["timestamp"] is None and new["timestamp"] is not None
            new["timestamp"] = None
        assert new == old, old["id"]

    async with open_store(v2_store) as store:
        items = await store.items()
        stamps = {(i.kind, i.message_id): (i.timestamp, i.timestamp_raw) for i in items}
        java = datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)
        assert stamps == {
            ("delivery_report", "MID-1"): (java, None),  # ISO 8601 then: as it was
            ("delivery_report", "MID-2"): (None, None),  # no TimeStamp
            ("delivery_report", "MID-3"): (java, "Wed Dec 02 05:40:59 UTC 2026"),
            ("delivery_report", "MID-4"): (None, "yesterday-ish"),
            ("read_reply", "MID-1"): (None, None),
            ("deliver", None): (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), None),
        }
        (mid1,) = [i for i in items if i.kind == "delivery_report" and i.message_id == "MID-1"]
        assert mid1.handled and mid1.attempts == 2 and mid1.submit is not None
        (mo,) = [i for i in items if i.kind == "deliver"]
        assert mo.parts[0].text == "안녕" and mo.subject == "사진"
        # the upgraded store keeps working: a resent report is a duplicate, a new one is new
        resent = DeliveryReportRequest(
            message_id="MID-2", recipient=Address("01088880001"), mm_status="Expired"
        )
        again = await store.add(resent)
        assert not again.created and again.item.attempts == 2
        added = await store.add(dataclasses.replace(resent, message_id="MID-9"))
        assert added.created and added.item.id > max(i.id for i in items)
