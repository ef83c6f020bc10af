"""The receiver application over loopback: acknowledgement, mounting, auth and allow-list."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import schema_oracle
from aiohttp import web

from mm7client.codec import decode, encode
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    Part,
    ReadReplyRequest,
    ReadReplyResponse,
    SoapFault,
)
from mm7client.profiles import LGT, THREEGPP
from mm7client.receiver import (
    AddResult,
    ReceiverServer,
    SqliteStore,
    StoredItem,
    create_receiver_app,
)


def report(message_id: str = "MID-1", mm_status: str = "Retrieved") -> DeliveryReportRequest:
    return DeliveryReportRequest(
        message_id=message_id,
        recipient=Address("01088880001"),
        sender=Address("15881234"),
        mm_status=mm_status,
        status_text="OK",
    )


@pytest_asyncio.fixture
async def store() -> AsyncIterator[SqliteStore]:
    async with SqliteStore(":memory:") as opened:
        yield opened


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    headers = {"Content-Type": content_type, **(headers or {})}
    async with http.post(url, data=body, headers=headers) as rsp:
        raw = await rsp.read()
        return rsp.status, decode(raw, rsp.headers["Content-Type"]), raw


@pytest.mark.asyncio
async def test_lgt_report_is_stored_then_acknowledged_in_lgt_form(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    async with ReceiverServer(store) as rx:
        assert rx.url == f"http://127.0.0.1:{rx.port}/"
        encoded = encode(report(), LGT)
        status, answer, raw = await post(http, rx.url, encoded.body, encoded.content_type)
    assert status == 200
    assert isinstance(answer, DeliveryReportResponse)
    assert answer.status.code == "1000" and answer.status.text == "Success"
    assert answer.transaction_id == encoded.transaction_id
    assert b'encoding="euc-kr"' in raw
    schema_oracle.validate_envelope("lgt", raw)
    (item,) = await store.pending()
    assert (item.kind, item.message_id, item.mm_status) == ("delivery_report", "MID-1", "Retrieved")
    assert item.normalized is not None and item.normalized.convert_result == -100


@pytest.mark.asyncio
async def test_3gpp_report_read_reply_and_mo_message_are_accepted(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    mo = DeliverRequest(
        sender=Address("01011112222"),
        to=[Address("15881234")],
        subject="MO",
        content=[Part.from_text("hello"), Part.jpeg(b"\xff\xd8\xff\xe0JFIF")],
    )
    read_reply = ReadReplyRequest(
        message_id="MID-9", recipient=Address("01012345678"), mm_status="Read"
    )
    async with ReceiverServer(store, profile="3gpp") as rx:
        answers = []
        for message in (report(), read_reply, mo):
            encoded = encode(message, THREEGPP)
            status, answer, raw = await post(http, rx.url, encoded.body, encoded.content_type)
            assert status == 200
            schema_oracle.validate_envelope("3gpp", raw)
            answers.append(type(answer))
    assert answers == [DeliveryReportResponse, ReadReplyResponse, DeliverResponse]
    kinds = {item.kind: item for item in await store.pending()}
    assert set(kinds) == {"delivery_report", "read_reply", "deliver"}
    assert kinds["read_reply"].mm_status == "Read"
    mo_item = kinds["deliver"]
    assert mo_item.sender == "01011112222" and mo_item.subject == "MO"
    assert [p.content_type for p in mo_item.parts if not p.is_smil] == ["text/plain", "image/jpeg"]
    assert b"\xff\xd8\xff\xe0JFIF" in [p.data for p in mo_item.parts]


@pytest.mark.asyncio
async def test_duplicate_is_acknowledged_again_and_stored_once(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    async with ReceiverServer(store) as rx:
        for _ in range(3):
            encoded = encode(report(), LGT)  # a fresh TransactionID each time
            status, answer, _ = await post(http, rx.url, encoded.body, encoded.content_type)
            assert status == 200 and isinstance(answer, DeliveryReportResponse)
            assert answer.transaction_id == encoded.transaction_id
    (item,) = await store.items()
    assert item.duplicates == 2


@pytest.mark.asyncio
async def test_mounted_in_a_user_app_under_a_prefix(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    outer = web.Application()
    outer.add_subapp("/mm7/", create_receiver_app(store, path="/reports"))
    runner = web.AppRunner(outer)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        encoded = encode(report(), LGT)
        url = f"http://127.0.0.1:{port}/mm7/reports"
        status, answer, _ = await post(http, url, encoded.body, encoded.content_type)
    finally:
        await runner.cleanup()
    assert status == 200 and isinstance(answer, DeliveryReportResponse)
    assert len(await store.pending()) == 1


@pytest.mark.asyncio
async def test_basic_auth_is_required_when_configured(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    encoded = encode(report(), LGT)
    async with ReceiverServer(store, basic_auth=("vasp", "s3cret")) as rx:
        async with http.post(rx.url, data=encoded.body, headers=encoded.headers) as rsp:
            assert rsp.status == 401
            assert rsp.headers["WWW-Authenticate"].startswith("Basic")
            fault = decode(await rsp.read(), rsp.headers["Content-Type"])
        assert isinstance(fault, SoapFault) and fault.status is not None
        assert fault.status.code == "4001"
        wrong = {"Authorization": "Basic " + base64.b64encode(b"vasp:guess").decode()}
        status, fault, _ = await post(http, rx.url, encoded.body, encoded.content_type, wrong)
        assert status == 401 and isinstance(fault, SoapFault)
        assert await store.items() == []
        right = {"Authorization": "Basic " + base64.b64encode(b"vasp:s3cret").decode()}
        status, answer, _ = await post(http, rx.url, encoded.body, encoded.content_type, right)
        assert status == 200 and isinstance(answer, DeliveryReportResponse)
    assert len(await store.items()) == 1


@pytest.mark.asyncio
async def test_ip_allow_list(store: SqliteStore, http: aiohttp.ClientSession) -> None:
    encoded = encode(report(), LGT)
    async with ReceiverServer(store, allow_ips=["10.0.0.0/8", "192.0.2.7"]) as rx:
        status, fault, _ = await post(http, rx.url, encoded.body, encoded.content_type)
    assert status == 403
    assert isinstance(fault, SoapFault) and fault.status is not None
    assert fault.status.code == "4007" and "127.0.0.1" in fault.fault_string
    assert await store.items() == []
    async with ReceiverServer(store, allow_ips=["127.0.0.0/8"]) as rx:
        status, answer, _ = await post(http, rx.url, encoded.body, encoded.content_type)
    assert status == 200 and isinstance(answer, DeliveryReportResponse)


def test_a_malformed_allow_list_entry_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        create_receiver_app(SqliteStore(":memory:"), allow_ips=["10.0.0.300"])


class FlakyStore(SqliteStore):
    """A store whose disk fails for the first ``failures`` writes."""

    def __init__(self, failures: int) -> None:
        super().__init__(":memory:")
        self.failures = failures

    async def add(self, message: Any, **kwargs: Any) -> AddResult:
        if self.failures:
            self.failures -= 1
            raise OSError("disk I/O error")
        return await super().add(message, **kwargs)


@pytest.mark.asyncio
async def test_store_failure_answers_3000_so_the_mmsc_resends(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    encoded = encode(report(), LGT)
    async with FlakyStore(failures=1) as flaky, ReceiverServer(flaky) as rx:
        status, fault, raw = await post(http, rx.url, encoded.body, encoded.content_type)
        assert status == 500
        assert isinstance(fault, SoapFault) and fault.fault_code == "Server"
        assert fault.status is not None and fault.status.code == "3000"
        assert fault.transaction_id == encoded.transaction_id
        assert b"Traceback" not in raw and b"disk I/O" not in raw
        assert "could not store" in caplog.text
        status, answer, _ = await post(http, rx.url, encoded.body, encoded.content_type)
        assert status == 200 and isinstance(answer, DeliveryReportResponse)
        assert len(await flaky.items()) == 1


@pytest.mark.asyncio
async def test_on_item_callback_runs_once_per_new_item_and_can_mark_it_handled(
    store: SqliteStore, http: aiohttp.ClientSession
) -> None:
    seen: list[StoredItem] = []

    async def on_item(item: StoredItem) -> bool:
        seen.append(item)
        if item.mm_status == "Boom":
            raise RuntimeError("consumer bug")
        return item.mm_status == "Retrieved"

    async with ReceiverServer(store, on_item=on_item) as rx:
        for message in (report(mm_status="Boom"), report(), report(), report(mm_status="Expired")):
            encoded = encode(message, LGT)
            status, _, _ = await post(http, rx.url, encoded.body, encoded.content_type)
            assert status == 200
        for _ in range(250):  # the callbacks run after the answers: wait for them (<= 5 s)
            if len(seen) == 3 and len(await store.pending()) == 2:
                break
            await asyncio.sleep(0.02)
    assert sorted(item.mm_status or "" for item in seen) == ["Boom", "Expired", "Retrieved"]
    pending = sorted(item.mm_status or "" for item in await store.pending())
    assert pending == ["Boom", "Expired"]  # the failed callback and the one returning False


@pytest.mark.asyncio
async def test_logs_say_what_was_stored(
    store: SqliteStore, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mm7client.receiver")
    async with ReceiverServer(store) as rx:
        encoded = encode(report(message_id="LOGGED"), LGT)
        await post(http, rx.url, encoded.body, encoded.content_type)
    assert "stored delivery_report #1 message_id=LOGGED" in caplog.text


@pytest.mark.parametrize("pair", [("", "secret"), ("vasp", "")])
def test_an_empty_basic_user_or_password_is_refused_when_configured(
    pair: tuple[str, str],
) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        create_receiver_app(SqliteStore(":memory:"), basic_auth=pair)
