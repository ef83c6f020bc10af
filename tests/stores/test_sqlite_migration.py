"""A sqlite store written by the previous version (results as a JSON blob) opens after
``mm7 db upgrade``, with every result in the platform's columns and nothing lost.

``golden/receiver-store-v1.sql`` is a dump of a store the previous version wrote: reports
(one resent, one handled), a read reply, an MO message with a part and a recorded submit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mm7client.cli import main as mm7
from mm7client.model import Address, DeliveryReportRequest
from mm7client.receiver import SCHEMA_VERSION, SqliteStore, StoreVersionError

DUMP = Path(__file__).parent.parent / "golden" / "receiver-store-v1.sql"


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
