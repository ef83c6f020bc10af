"""SqliteStore: durability across reopen, duplicates, handled marking, correlation, consumers."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_samples import FakeSubmitResult, report

from mm7client.codes import Category, normalize_submit_status
from mm7client.model import (
    Address,
    DeliverRequest,
    Part,
    ReadReplyRequest,
    SubmitRequest,
)
from mm7client.receiver import ReceiverStore, SqliteStore, dedup_key


def test_sqlite_store_satisfies_the_protocol() -> None:
    assert isinstance(SqliteStore(":memory:"), ReceiverStore)


def test_unknown_synchronous_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="synchronous='SOMETIMES'"):
        SqliteStore(":memory:", synchronous="SOMETIMES")


@pytest.mark.asyncio
async def test_report_is_stored_with_its_normalized_result() -> None:
    async with SqliteStore(":memory:") as store:
        added = await store.add(report(mm_status="Retrieved", status_text="NOK"), raw_body=b"<x/>")
        assert added.created
        item = added.item
        assert item.kind == "delivery_report"
        assert (item.message_id, item.recipient, item.sender) == (
            "MSG-1",
            "01088880001",
            "15881234",
        )
        assert (item.mm_status, item.status_text, item.transaction_id) == (
            "Retrieved",
            "NOK",
            "tid-1",
        )
        assert item.normalized is not None
        assert item.normalized.spam_blocked
        assert item.normalized.convert_result == -100
        assert not item.handled and item.submit is None
        assert item.received_at.tzinfo is not None

        expired = (await store.add(report(message_id="MSG-2", mm_status="Expired"))).item
        assert expired.normalized is not None
        assert expired.normalized.convert_result == 3020
        assert [i.id for i in await store.pending()] == [item.id, expired.id]


@pytest.mark.asyncio
async def test_items_survive_reopening_the_file_and_the_file_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "rx.sqlite"
    async with SqliteStore(path) as store:
        first = (await store.add(report(message_id="A"))).item
        await store.add(report(message_id="B", mm_status="Rejected", status_text="NOK"))
        await store.mark_handled(first.id)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    async with SqliteStore(path) as store:
        every = await store.items()
        assert [(i.message_id, i.handled) for i in every] == [("A", True), ("B", False)]
        assert every[1].normalized is not None
        assert every[1].normalized.origin_result == "Rejected"
        assert every[1].normalized.category is Category.FAILED
        assert [i.message_id for i in await store.pending()] == ["B"]


@pytest.mark.asyncio
async def test_duplicate_report_is_stored_once_and_counted() -> None:
    async with SqliteStore(":memory:") as store:
        first = await store.add(report(transaction_id="tid-1"))
        again = await store.add(report(transaction_id="tid-2"))  # a resend with a new tid
        third = await store.add(report(transaction_id=None, status_text="ok"))
        assert first.created and not again.created and not third.created
        assert again.item.id == first.item.id == third.item.id
        assert third.item.duplicates == 2
        assert third.item.transaction_id == "tid-1"  # the first arrival is what is kept
        assert len(await store.items()) == 1


@pytest.mark.asyncio
async def test_different_status_recipient_or_kind_are_different_items() -> None:
    async with SqliteStore(":memory:") as store:
        await store.add(report(mm_status="Deferred", status_text="NOK"))
        await store.add(report(mm_status="Retrieved"))
        await store.add(report(recipient="01000000000"))
        await store.add(
            ReadReplyRequest(
                message_id="MSG-1", recipient=Address("01088880001"), mm_status="Retrieved"
            )
        )
        kinds = [(i.kind, i.recipient, i.mm_status) for i in await store.items()]
        assert kinds == [
            ("delivery_report", "01088880001", "Deferred"),
            ("delivery_report", "01088880001", "Retrieved"),
            ("delivery_report", "01000000000", "Retrieved"),
            ("read_reply", "01088880001", "Retrieved"),
        ]
        read_reply = (await store.items(kind="read_reply"))[0]
        assert read_reply.normalized is None


@pytest.mark.asyncio
async def test_mark_handled_is_the_only_way_out_of_pending() -> None:
    async with SqliteStore(":memory:") as store:
        item = (await store.add(report())).item
        assert [i.id for i in await store.pending()] == [item.id]
        assert await store.mark_handled(item) is True
        assert await store.mark_handled(item.id) is False
        assert await store.mark_handled(12345) is False
        assert await store.pending() == []
        stored = await store.get(item.id)
        assert stored is not None and stored.handled and stored.handled_at is not None
        # a duplicate of a handled item is acknowledged but does not become pending again
        assert not (await store.add(report(transaction_id="again"))).created
        assert await store.pending() == []


@pytest.mark.asyncio
async def test_report_correlates_with_the_recorded_submit_whichever_comes_first() -> None:
    submitted = normalize_submit_status(1000, "Success")
    async with SqliteStore(":memory:") as store:
        early = (await store.add(report(message_id="MID-1"))).item
        assert early.submit is None
        request = SubmitRequest(
            to=["01088880001"], subject="hello", vas_id="VAS", transaction_id="t"
        )
        await store.record_submit(request, FakeSubmitResult("MID-1", "sub-tid", submitted))
        await store.record_submit(request, FakeSubmitResult(None, "failed-tid", None))
        late = (await store.add(report(message_id="MID-1", recipient="01099990000"))).item
        for item in (await store.get(early.id), late):
            assert item is not None and item.submit is not None
            assert item.submit.message_id == "MID-1"
            assert item.submit.transaction_id == "sub-tid"
            assert item.submit.recipients == ("01088880001",)
            assert (item.submit.vas_id, item.submit.subject) == ("VAS", "hello")
            assert item.submit.normalized == submitted
        assert await store.find_submit("MID-1") is not None
        assert await store.find_submit("nope") is None
        unrelated = (await store.add(report(message_id="OTHER"))).item
        assert unrelated.submit is None


@pytest.mark.asyncio
async def test_mo_message_parts_are_stored_and_duplicates_detected(tmp_path: Path) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def mo(tid: str) -> DeliverRequest:
        return DeliverRequest(
            transaction_id=tid,
            sender=Address("01011112222"),
            to=[Address("15881234")],
            subject="사진",
            timestamp=stamp,
            linked_id="L-1",
            content=[
                Part("text/plain", data="안녕".encode("euc-kr"), text="안녕", charset="euc-kr"),
                Part("image/jpeg", data=jpeg, filename="a.jpg", content_id="img1"),
            ],
        )

    async with SqliteStore(tmp_path / "mo.sqlite") as store:
        first = await store.add(mo("t1"))
        second = await store.add(mo("t2"))
        assert first.created and not second.created
    async with SqliteStore(tmp_path / "mo.sqlite") as store:
        (item,) = await store.pending(kind="deliver")
        assert (item.sender, item.recipients, item.subject) == (
            "01011112222",
            ("15881234",),
            "사진",
        )
        assert item.linked_id == "L-1" and item.timestamp == stamp
        text, image = item.parts
        assert (text.text, text.charset, text.data) == ("안녕", "euc-kr", "안녕".encode("euc-kr"))
        assert (image.data, image.filename, image.content_id) == (jpeg, "a.jpg", "img1")
        assert await store.pending(kind="delivery_report") == []


def test_mo_messages_without_timestamp_are_told_apart_by_transaction_id() -> None:
    def mo(tid: str) -> DeliverRequest:
        return DeliverRequest(transaction_id=tid, sender=Address("010"), content=[])

    assert dedup_key(mo("a")) != dedup_key(mo("b"))
    assert dedup_key(mo("a")) == dedup_key(mo("a"))


@pytest.mark.asyncio
async def test_iter_pending_yields_stored_then_new_items_once() -> None:
    async with SqliteStore(":memory:") as store:
        await store.add(report(message_id="old"))
        seen: list[str | None] = []

        async def consume() -> None:
            async for item in store.iter_pending(poll_interval=5.0):
                seen.append(item.message_id)
                await store.mark_handled(item.id)
                if len(seen) == 3:
                    return

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        await store.add(report(message_id="new-1"))
        await store.add(report(message_id="new-2"))
        await asyncio.wait_for(consumer, 5.0)  # woken by add, not by the 5 s poll
        assert seen == ["old", "new-1", "new-2"]
        assert await store.pending() == []


@pytest.mark.asyncio
async def test_an_unhandled_item_comes_back_to_the_next_consumer() -> None:
    async with SqliteStore(":memory:") as store:
        await store.add(report(message_id="a"))
        await store.add(report(message_id="b"))
        first_run = [i.message_id async for i in store.iter_pending(stop_when_empty=True)]
        assert first_run == ["a", "b"]  # the consumer "crashed": nothing was marked
        (a, _) = await store.pending()
        await store.mark_handled(a)
        second_run = [i.message_id async for i in store.iter_pending(stop_when_empty=True)]
        assert second_run == ["b"]


@pytest.mark.asyncio
async def test_iter_pending_sees_writes_of_another_store_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    async with SqliteStore(path) as writer, SqliteStore(path) as reader:

        async def first_item() -> str | None:
            async for item in reader.iter_pending(poll_interval=0.05):
                return item.message_id
            return None

        consumer = asyncio.create_task(first_item())
        await asyncio.sleep(0.1)
        await writer.add(report(message_id="from-elsewhere"))
        assert await asyncio.wait_for(consumer, 5.0) == "from-elsewhere"


@pytest.mark.asyncio
async def test_closed_store_refuses_work() -> None:
    store = SqliteStore(":memory:")
    await store.add(report())
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await store.pending()
