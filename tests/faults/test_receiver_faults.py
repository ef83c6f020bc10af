"""The receiver under the mock's report faults and broken senders: every report accounted for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from mm7client import MM7Client
from mm7client.codec import decode, encode
from mm7client.model import (
    DeliveryReportRequest,
    DeliveryReportResponse,
    Part,
    Status,
    SubmitRequest,
)
from mm7client.profiles import LGT
from mm7client.receiver import ReceiverServer, SqliteStore
from mockmmsc import MockMMSC, MockSettings
from mockmmsc.testing import lgt_submit, post_mm7

GUARD = 10.0


def request(recipient: str) -> SubmitRequest:
    return SubmitRequest(
        to=[recipient], subject="report faults", content=[Part.from_text("x")], delivery_report=True
    )


@pytest_asyncio.fixture
async def chain(mmsc: MockMMSC) -> AsyncIterator[tuple[MockMMSC, SqliteStore, MM7Client]]:
    """Client -> mock -> receiver, with the client's results recorded for correlation."""
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store) as rx,
        MM7Client(
            mmsc.url,
            vasp_id="VASP",
            vas_id="VAS",
            kisa_orig_code="123456789",
            callback="15881234",
            on_result=store.record_submit,
            total_timeout=2.0,
        ) as client,
    ):
        mmsc.set_report_url("VAS", rx.url)
        yield mmsc, store, client


async def submit(client: MM7Client, recipient: str) -> Any:
    result = await asyncio.wait_for(client.submit(request(recipient)), GUARD)
    assert result.ok and result.message_id
    return result


@pytest.mark.asyncio
async def test_duplicate_report_is_stored_once_and_acknowledged_twice(chain) -> None:
    mmsc, store, client = chain
    mmsc.add_rule(fault="duplicate_report")
    result = await submit(client, "01012345678")
    await mmsc.wait_for_reports(2, timeout=GUARD)  # both copies acknowledged
    (item,) = await store.items()
    assert item.message_id == result.message_id and item.duplicates == 1
    assert item.submit is not None and item.submit.message_id == result.message_id


@pytest.mark.asyncio
async def test_out_of_order_reports_are_each_correlated(chain) -> None:
    mmsc, store, client = chain
    mmsc.add_rule(fault={"kind": "out_of_order_reports", "delay": 20}, times=1)  # 0.2 s
    first = await submit(client, "01011110001")
    second = await submit(client, "01011110002")
    await mmsc.wait_for_reports(2, timeout=GUARD)
    items = await store.items()
    assert [i.message_id for i in items] == [second.message_id, first.message_id]
    assert all(i.submit is not None and i.submit.message_id == i.message_id for i in items)


@pytest.mark.asyncio
async def test_report_for_an_unknown_message_id_is_kept_uncorrelated(chain) -> None:
    mmsc, store, client = chain
    mmsc.add_rule(fault="unknown_message_id_report")
    result = await submit(client, "01012345678")
    await mmsc.wait_for_reports(2, timeout=GUARD)
    items = {i.message_id: i for i in await store.items()}
    assert len(items) == 2
    assert items.pop(result.message_id).submit is not None
    (stray,) = items.values()
    assert stray.submit is None and stray.message_id.startswith("UNKNOWN")
    assert stray.normalized is not None  # still normalized, waiting for reconciliation


@pytest.mark.asyncio
async def test_sender_dropping_mid_body_stores_nothing(chain) -> None:
    mmsc, store, client = chain
    await submit(client, "01012345678")
    await mmsc.wait_for_reports(1, timeout=GUARD)
    before = await store.items()
    report = encode(
        DeliveryReportRequest(message_id="HALF", recipient="01099999999", mm_status="Retrieved"),
        LGT,
    )
    url = mmsc.report_url_for("VAS")
    assert url is not None
    host, port = url.split("//")[1].rstrip("/").split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
        + f"Content-Length: {len(report.body)}\r\n\r\n".encode()
        + report.body[: len(report.body) // 2]
    )
    await writer.drain()
    writer.transport.abort()  # gone mid-body
    await asyncio.sleep(0.1)
    assert await store.items() == before
    # and the receiver still takes the next report
    await submit(client, "01012345679")
    await mmsc.wait_for_reports(2, timeout=GUARD)
    assert len(await store.items()) == len(before) + 1


@pytest.mark.asyncio
async def test_mock_reads_a_dribbled_report_answer_to_its_end(mmsc_settings: MockSettings) -> None:
    """A VASP that answers DeliveryReportRsp a few bytes at a time is still an acknowledgement."""

    async def dribble(http_request: web.Request) -> web.StreamResponse:
        report = decode(await http_request.read(), http_request.headers["Content-Type"])
        answer = encode(
            DeliveryReportResponse(
                transaction_id=report.transaction_id, status=Status.of(1000, "Success")
            ),
            LGT,
        )
        stream = web.StreamResponse(headers={"Content-Type": answer.content_type})
        stream.content_length = len(answer.body)
        await stream.prepare(http_request)
        for start in range(0, len(answer.body), 8):
            await stream.write(answer.body[start : start + 8])
            await asyncio.sleep(0.002)
        await stream.write_eof()
        return stream

    app = web.Application()
    app.router.add_post("/", dribble)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with (
            MockMMSC(mmsc_settings, report_url=url) as mmsc,
            aiohttp.ClientSession() as http,
        ):
            answer = await post_mm7(http, mmsc.url, lgt_submit("01012345678"))
            assert answer.status_code == 1000
            (report,) = await mmsc.wait_for_reports(1, timeout=GUARD)
            assert report.acknowledged and report.attempts == 1
    finally:
        await runner.cleanup()
