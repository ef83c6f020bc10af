"""The real MM7Client against the real mock MMSC over loopback.

Time is compressed: the mock runs at ``time_scale=0.01`` (its 60-second 4030 window lasts
0.6 s) and the client pauses a VASID for 0.7 s instead of 60 s after a 4030.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from mm7client import MM7Client, Part, SubmitRequest
from mm7client.codes import Category, CodeTable, normalize_submit_status
from mm7client.codes.lgt import RESULT_TYPE_SUBMIT
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, MockSettings, Rule

PAUSE = 0.7  # client pause after 4030; the mock's 60 s window is 0.6 s at time_scale 0.01
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, pause_seconds=PAUSE)

LGT_SUBMIT_ROWS = [
    row
    for row in CodeTable.default().effective_rows
    if row.provider == "LGT" and row.result_type == RESULT_TYPE_SUBMIT
]


# every test here runs over both HTTP transports: the lean http11 (the default) and aiohttp
TRANSPORT = {"name": "aiohttp"}


@pytest.fixture(autouse=True, params=["aiohttp", "http11"])
def http_transport(request: pytest.FixtureRequest) -> str:
    TRANSPORT["name"] = request.param
    return str(request.param)


def client_for(url: str, **options: object) -> MM7Client:
    defaults: dict[str, object] = {
        "transport": TRANSPORT["name"],
        "vasp_id": "VASP",
        "vas_id": "VAS1",
        "kisa_orig_code": "123456789",
        "callback": "15881234",
        "retry": FAST,
        "seed": 7,
    }
    defaults.update(options)
    return MM7Client(url, **defaults)  # type: ignore[arg-type]


def message(to: str = "01012345678", **fields: object) -> SubmitRequest:
    return SubmitRequest(
        to=[to],
        subject="안녕하세요",
        content=[Part.from_text("MM7 통합 테스트")],
        **fields,  # type: ignore[arg-type]
    )


def test_every_lgt_submit_code_is_covered() -> None:
    codes = {row.origin_result for row in LGT_SUBMIT_ROWS}
    assert {"1000", "4006", "4030", "4032", "7103"} <= codes
    assert len(codes) == 30


@pytest.mark.asyncio
@pytest.mark.parametrize("row", LGT_SUBMIT_ROWS, ids=lambda row: row.origin_result)
async def test_magic_code_maps_to_its_normalized_result(mmsc: MockMMSC, row) -> None:
    async with client_for(mmsc.url, retry=RetryPolicy.no_retries()) as client:
        result = await client.submit(message(f"0109999{row.origin_result}"))
    expected = normalize_submit_status(row.origin_result, row.result_message)
    assert result.normalized == expected
    assert result.normalized.convert_result == row.convert_result
    assert result.category is row.category
    assert result.status is not None and result.status.code == row.origin_result
    assert result.attempts == 1
    assert (result.message_id is not None) == (row.category is Category.SUCCESS)
    [received] = mmsc.received(operation="SubmitReq")
    assert received.transaction_id == result.transaction_id


@pytest.mark.asyncio
async def test_4030_window_pauses_the_vasid_then_everything_is_delivered(
    mmsc: MockMMSC,
) -> None:
    mmsc.overload(60, vas_id="VAS1")
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with client_for(mmsc.url) as client:
        results = [await client.submit(message(f"010{i:08d}")) for i in range(5)]
        stats = client.stats["VAS1"]
    assert all(r.ok for r in results)
    assert results[0].attempts == 2
    assert all(r.attempts == 1 for r in results[1:])
    assert mmsc.requests_during_overload("VAS1") == 0
    assert loop.time() - start >= PAUSE
    assert stats.paused == 1
    assert stats.results["success"] == 5
    assert len(mmsc.received(operation="SubmitReq", status_code=1000)) == 5


@pytest.mark.asyncio
async def test_two_vasids_are_throttled_independently(mmsc: MockMMSC) -> None:
    mmsc.overload(60, vas_id="VAS1")
    loop = asyncio.get_running_loop()
    async with client_for(mmsc.url) as client:
        first = await client.submit(message(retry_check := "01011110000"))
        assert first.ok and first.attempts == 2  # paused, then delivered
        mmsc.overload(60, vas_id="VAS1")
        blocked = asyncio.create_task(client.submit(message("01011110001")))
        while not client.throttle_of("VAS1").gate.paused:
            await asyncio.sleep(0.005)
        start = loop.time()
        others = [await client.submit(message(f"0102222{i:04d}"), vas_id="VAS2") for i in range(5)]
        others_took = loop.time() - start
        assert not blocked.done()  # VAS1 still paused while VAS2 went through
        late = await blocked
    assert all(r.ok and r.attempts == 1 and r.vas_id == "VAS2" for r in others)
    assert others_took < PAUSE
    assert late.ok and late.attempts == 2
    assert mmsc.requests_during_overload("VAS1") == 0
    assert client.stats["VAS2"].paused == 0
    assert client.stats["VAS1"].paused == 2
    assert {m.vas_id for m in mmsc.received(recipient=retry_check)} == {"VAS1"}


@pytest.mark.asyncio
async def test_above_contracted_tps_7103s_are_absorbed(mmsc: MockMMSC) -> None:
    mmsc.set_tps("VAS1", 40)
    count = 80
    async with client_for(mmsc.url) as client:
        items = [
            item
            async for item in client.submit_many(
                (message(f"0103{i:07d}") for i in range(count)), concurrency=16
            )
        ]
        stats = client.stats["VAS1"]
    assert len(items) == count
    assert all(item.result is not None and item.result.ok for item in items)
    assert stats.throttled_7103 > 0
    assert stats.slowed_down > 0
    refused = mmsc.received(operation="SubmitReq", status_code=7103)
    accepted = mmsc.received(operation="SubmitReq", status_code=1000)
    assert len(refused) == stats.throttled_7103
    assert len(accepted) == count
    assert len({m.recipients[0] for m in accepted}) == count


@pytest.mark.asyncio
async def test_contracted_tps_configured_in_the_client_avoids_7103(mmsc: MockMMSC) -> None:
    mmsc.set_tps("VAS1", 50)
    async with client_for(mmsc.url, tps=40) as client:
        items = [
            item
            async for item in client.submit_many(
                [message(f"0104{i:07d}") for i in range(30)], concurrency=8
            )
        ]
    assert all(item.result is not None and item.result.ok for item in items)
    assert client.stats["VAS1"].throttled_7103 == 0


@pytest.mark.asyncio
async def test_4006_is_retried_until_accepted(mmsc: MockMMSC) -> None:
    mmsc.add_rule(Rule(recipient="01050000001", status=4006, times=2, then=[{"status": 1000}]))
    async with client_for(mmsc.url) as client:
        result = await client.submit(message("01050000001"))
    assert result.ok
    assert result.attempts == 3
    sent = mmsc.received(recipient="01050000001")
    assert [m.status_code for m in sent] == [4006, 4006, 1000]
    assert len({m.transaction_id for m in sent}) == 3
    assert client.stats["VAS1"].retries == 2


class DroppingProxy:
    """A loopback TCP proxy to the mock that drops its first ``drops`` connections after reading
    the whole request (the mock never sees it)."""

    def __init__(self, target_port: int, drops: int) -> None:
        self.target_port = target_port
        self.drops = drops
        self.dropped = 0
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/mm7"

    async def start(self, port: int = 0) -> DroppingProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.dropped < self.drops:
            self.dropped += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest_asyncio.fixture
async def dropping_proxy(mmsc: MockMMSC) -> AsyncIterator[DroppingProxy]:
    proxy = await DroppingProxy(mmsc.port, drops=1).start()
    yield proxy
    await proxy.close()


@pytest.mark.asyncio
async def test_dropped_connection_after_sending_is_final_and_flagged_ambiguous(
    mmsc: MockMMSC, dropping_proxy: DroppingProxy
) -> None:
    async with client_for(dropping_proxy.url) as client:
        result = await client.submit(message())
    assert result.ambiguous
    assert result.category is Category.UNKNOWN
    assert result.attempts == 1
    assert dropping_proxy.dropped == 1
    assert mmsc.messages == []  # not resent blindly


@pytest.mark.asyncio
async def test_dropped_connection_is_retried_when_resending_is_allowed(
    mmsc: MockMMSC, dropping_proxy: DroppingProxy
) -> None:
    policy = RetryPolicy(base_delay=0.01, retry_ambiguous=True)
    async with client_for(dropping_proxy.url, retry=policy) as client:
        result = await client.submit(message())
    assert result.ok and not result.ambiguous
    assert result.attempts == 2
    assert len(mmsc.received(operation="SubmitReq")) == 1


@pytest.mark.asyncio
async def test_refused_connection_is_retried_until_the_mmsc_is_up(mmsc: MockMMSC) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = DroppingProxy(mmsc.port, drops=0)

    async def come_up_later() -> None:
        await asyncio.sleep(0.15)
        await proxy.start(port)

    policy = RetryPolicy(base_delay=0.1, multiplier=1.5, jitter=0.0, max_attempts=10)
    starting = asyncio.create_task(come_up_later())
    try:
        async with client_for(f"http://127.0.0.1:{port}/mm7", retry=policy) as client:
            result = await client.submit(message())
    finally:
        await starting
        await proxy.close()
    assert result.ok
    assert result.attempts >= 2
    assert client.stats["VAS1"].retries == result.attempts - 1
    assert len(mmsc.received(operation="SubmitReq")) == 1


@pytest.mark.asyncio
async def test_submit_many_reports_every_message_once_and_loses_none(mmsc: MockMMSC) -> None:
    mmsc.add_rule(Rule(recipient="re:0106[0-9]*[05]", status=4006, times=10, then=[{}]))
    count = 200
    numbers = [f"0106{i:07d}" for i in range(count)]
    numbers[13] = "01099992002"  # a final failure
    numbers[77] = "01099996014"
    async with client_for(mmsc.url) as client:
        items = [
            item async for item in client.submit_many((message(n) for n in numbers), concurrency=32)
        ]
    indexes = [item.index for item in items]
    assert sorted(indexes) == list(range(count))
    assert all(item.request.to[0].value == numbers[item.index] for item in items)
    results = {item.index: item.result for item in items}
    assert all(r is not None for r in results.values())
    failed = sorted(i for i, r in results.items() if r is not None and not r.ok)
    assert failed == [13, 77]
    ids = [r.message_id for r in results.values() if r is not None and r.ok]
    assert len(ids) == len(set(ids)) == count - 2
    accepted = mmsc.received(operation="SubmitReq", status_code=1000)
    assert sorted(m.message_id for m in accepted) == sorted(ids)
    assert sum(r.attempts for r in results.values() if r is not None) == len(mmsc.messages)


@pytest.mark.asyncio
async def test_cancel_and_replace_against_the_mock(mmsc: MockMMSC) -> None:
    from mm7client.model import ReplaceRequest

    async with client_for(mmsc.url) as client:
        submitted = await client.submit(message())
        assert submitted.message_id
        cancelled = await client.cancel(submitted.message_id)
        replaced = await client.replace(
            ReplaceRequest(message_id=submitted.message_id, content=[Part.from_text("새 본문")])
        )
    assert cancelled.operation == "CancelReq" and cancelled.status is not None
    assert replaced.operation == "ReplaceReq" and replaced.status is not None
    operations = [m.operation for m in mmsc.messages]
    assert operations == ["SubmitReq", "CancelReq", "ReplaceReq"]


@pytest.mark.asyncio
async def test_basic_auth_is_accepted_by_a_mock_that_requires_it() -> None:
    settings = MockSettings(host="127.0.0.1", port=0, time_scale=0.01, basic_auth=("cp", "pw"))
    async with MockMMSC(settings) as mock:
        async with client_for(mock.url, username="cp", password="pw") as good:
            ok = await good.submit(message())
        async with client_for(mock.url, retry=RetryPolicy.no_retries()) as anonymous:
            refused = await anonymous.submit(message())
    assert ok.ok
    assert not refused.ok
    assert refused.http_status == 401
