"""No connection is held forever: header, idle and body timeouts and the connection cap of the
servers (``mm7client.http_server.AppServer``), over loopback with short timeouts.

Every wait is bounded (``asyncio.wait_for``); the timeouts under test are fractions of a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from mm7client.codec import decode, encode
from mm7client.http_server import AppServer
from mm7client.model import Address, DeliveryReportRequest, DeliveryReportResponse, SoapFault
from mm7client.profiles import LGT
from mm7client.receiver import ReceiverServer, SqliteStore
from mm7client.server import BodyPolicy, ServerLimits
from mm7client.server_aiohttp import RequestRefused, read_body

pytestmark = pytest.mark.asyncio

SHORT = ServerLimits(
    header_timeout=0.5,
    idle_timeout=0.5,
    body_timeout=10.0,
    body_min_rate=500.0,
    body_grace=0.5,
)
BOUND = 5.0  # no single wait in these tests may take longer


def report(message_id: str = "m-1", padding: int = 0) -> tuple[bytes, str]:
    encoded = encode(
        DeliveryReportRequest(
            message_id=message_id, recipient=Address("01012345678"), mm_status="Retrieved"
        ),
        LGT,
    )
    # whitespace after the envelope keeps it valid XML and makes a body of the wanted size
    return encoded.body + b" " * padding, encoded.content_type


def post_head(body: bytes, content_type: str, *, keep_alive: bool = False) -> bytes:
    return (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    ).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length: (status, body)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    body = await asyncio.wait_for(reader.readexactly(length), BOUND)
    return status, body


async def closed_after(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """What the server still sent and how long until it closed the connection."""
    started = time.monotonic()
    data = await asyncio.wait_for(reader.read(), BOUND)
    return data, time.monotonic() - started


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[SqliteStore, ReceiverServer]]:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, server_limits=SHORT) as server,
    ):
        yield store, server


async def connect(
    server: ReceiverServer | AppServer,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), BOUND)


async def test_a_silent_connection_is_closed_after_the_header_timeout(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    reader, writer = await connect(receiver[1])
    data, waited = await closed_after(reader)
    writer.close()
    assert data == b""  # nothing was asked, nothing is answered
    assert 0.4 <= waited < 2.0


async def test_half_a_header_gets_408_and_is_closed(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    reader, writer = await connect(receiver[1])
    writer.write(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
    data, waited = await closed_after(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert 0.4 <= waited < 2.0


async def test_a_header_sent_byte_by_byte_does_not_extend_the_timeout(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    reader, writer = await connect(receiver[1])
    started = time.monotonic()

    async def drip() -> None:
        for byte in b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    dripping = asyncio.create_task(drip())
    data = await asyncio.wait_for(reader.read(), BOUND)
    dripping.cancel()
    writer.close()
    assert data.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 2.0


async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    store, server = receiver
    reader, writer = await connect(server)
    for n in (1, 2):  # a live keep-alive connection serves request after request
        body, content_type = report(f"keep-{n}")
        writer.write(post_head(body, content_type, keep_alive=True) + body)
        status, answer = await read_response(reader)
        assert status == 200
        assert isinstance(decode(answer), DeliveryReportResponse)
        await asyncio.sleep(0.2)  # idle, but less than the idle timeout
    data, waited = await closed_after(reader)
    writer.close()
    assert data == b""
    assert 0.1 <= waited < 2.0  # 0.5 s after the answer (0.2 s of it already spent)
    assert len(await store.pending()) == 2


async def test_a_stalled_body_is_refused_with_408_and_nothing_is_stored(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    store, server = receiver
    body, content_type = report()
    reader, writer = await connect(server)
    writer.write(post_head(body, content_type) + body[:100])  # then nothing more
    started = time.monotonic()
    status, answer = await read_response(reader)
    waited = time.monotonic() - started
    writer.close()
    assert status == 408
    fault = decode(answer)
    assert isinstance(fault, SoapFault) and fault.status is not None
    assert str(fault.status.code) == "2007"
    assert "body too slow: 100 bytes" in (fault.status.details or fault.fault_string)
    assert 0.5 <= waited < 2.0  # grace 0.5 s + 100 bytes at 500 B/s = 0.7 s
    assert await store.pending() == []


async def test_a_slow_sender_at_1_kb_per_second_still_gets_its_answer(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    store, server = receiver
    body, content_type = report("slow-1", padding=3000 - len(report("slow-1")[0]))
    assert len(body) == 3000
    reader, writer = await connect(server)
    writer.write(post_head(body, content_type))
    started = time.monotonic()
    for offset in range(0, len(body), 256):  # 256 bytes every 0.25 s: 1 KB/s
        writer.write(body[offset : offset + 256])
        await writer.drain()
        await asyncio.sleep(0.25)
    status, answer = await read_response(reader)
    writer.close()
    assert time.monotonic() - started >= 2.5  # it really was slow
    assert status == 200, answer
    assert isinstance(decode(answer), DeliveryReportResponse)
    [item] = await store.pending()
    assert item.message_id == "slow-1"


async def test_connections_over_the_cap_wait_in_the_backlog(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mm7client.http_server")
    limits = ServerLimits(header_timeout=0.6, idle_timeout=0.6, max_connections=4)
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, server_limits=limits) as server,
    ):
        silent = [await connect(server) for _ in range(4)]
        body, content_type = report("after-the-cap")
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                server.url,
                data=body,
                headers={"Content-Type": content_type},
                timeout=aiohttp.ClientTimeout(total=BOUND),
            ) as response,
        ):
            assert response.status == 200
        waited = time.monotonic() - started
        assert server._server is not None and server._server.open_connections <= 4
        for _reader, writer in silent:
            writer.close()
        [item] = await store.pending()
    assert item.message_id == "after-the-cap"
    assert 0.3 <= waited < 3.0  # served once the silent ones timed out, not before
    assert any("the cap of connections reached" in r.getMessage() for r in caplog.records)


async def test_a_long_running_handler_is_never_cut_by_the_connection_timers() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.2)  # longer than the header and the idle timeout
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/", slow)
    limits = ServerLimits(header_timeout=0.3, idle_timeout=0.3)
    async with (
        AppServer(app, limits=limits, name="slow server") as server,
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{server.port}/", timeout=aiohttp.ClientTimeout(total=BOUND)
        ) as response,
    ):
        assert (response.status, await response.text()) == (200, "done")


async def test_a_stalled_body_is_refused_without_an_app_server_too() -> None:
    # read_body outside AppServer (no sweep watches the read): its own watchdog timer ends it
    policy = BodyPolicy(100_000, timeout=10.0, min_rate=500.0, grace=0.5)

    async def handler(request: web.Request) -> web.Response:
        try:
            await read_body(request, policy)
        except RequestRefused as refused:
            return web.Response(status=refused.refusal.http_status, text=refused.refusal.reason)
        return web.Response(text="read")

    app = web.Application()
    app.router.add_post("/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        body, content_type = report()
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), BOUND)
        writer.write(post_head(body, content_type) + body[:100])  # then nothing more
        started = time.monotonic()
        status, answer = await read_response(reader)
        waited = time.monotonic() - started
        writer.close()
    finally:
        await runner.cleanup()
    assert status == 408 and b"body too slow: 100 bytes" in answer
    assert 0.5 <= waited < 2.0  # grace 0.5 s + 100 bytes at 500 B/s = 0.7 s


async def test_a_sender_leaving_mid_body_is_a_refusal_not_an_error(
    receiver: tuple[SqliteStore, ReceiverServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store, server = receiver
    body, content_type = report()
    _reader, writer = await connect(server)
    writer.write(post_head(body, content_type) + body[:100])
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    for _ in range(50):  # until the receiver noticed (bounded: 1 s)
        if any("connection lost after 100 bytes" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    assert any("connection lost after 100 bytes" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await store.pending() == []


# -- the mock MMSC serves under the same bounds, from its settings ------------------------------


async def test_the_mock_closes_silent_connections_and_refuses_stalled_bodies() -> None:
    from mockmmsc import MockMMSC, MockSettings

    settings = MockSettings(header_timeout=0.5, idle_timeout=0.5, body_grace=0.5)
    async with MockMMSC(settings) as mmsc:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", mmsc.port), BOUND
        )
        data, waited = await closed_after(reader)
        writer.close()
        assert data == b"" and 0.4 <= waited < 2.0

        body, content_type = report()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", mmsc.port), BOUND
        )
        writer.write(post_head(body, content_type).replace(b"POST / ", b"POST /mm7 ") + body[:50])
        status, answer = await read_response(reader)
        writer.close()
        assert status == 408
        fault = decode(answer)
        assert isinstance(fault, SoapFault) and fault.status is not None
        assert str(fault.status.code) == "2007"
        # recorded as refused (the inbox shows it), never as a SubmitReq
        assert [(m.operation, m.status_code) for m in mmsc.messages] == [("refused", 2007)]
