"""MM7Client against a scripted loopback HTTP server, on a fake clock.

The server here is deliberately tiny (raw asyncio): it records each request's head and body and
answers what the test scripts - an MM7 status, a SOAP fault, an HTML page, garbage, a silence or
a dropped connection - so every branch of the client's normalization and retry logic is reached.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from mm7client import LGT, MM7Client, Part, SubmitRequest, SubmitResult, SyncMM7Client
from mm7client.codec import decode, encode
from mm7client.codes import Category, normalize_submit_status
from mm7client.errors import ValidationError
from mm7client.model import (
    CancelRequest,
    CancelResponse,
    ReplaceRequest,
    ReplaceResponse,
    SoapFault,
    Status,
    SubmitResponse,
)
from mm7client.throttle import FakeClock, RetryPolicy

PASSWORD = "s3cret-Pa55"


@dataclass
class Received:
    head: str
    headers: dict[str, str]
    body: bytes

    @property
    def transaction_id(self) -> str | None:
        return decode(self.body, self.headers.get("content-type")).transaction_id

    @property
    def operation(self) -> str:
        return type(decode(self.body, self.headers.get("content-type"))).__name__


# An action gets the request and returns the raw HTTP answer, or None to drop the connection
# without answering, or "hang" to never answer.
Action = Callable[[Received], bytes | list[bytes] | str | None]


def http(status: int, body: bytes, content_type: str = 'text/xml; charset="utf-8"') -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def answer(code: int, text: str | None = None, message_id: str | None = "MID-1") -> Action:
    def act(req: Received) -> bytes:
        request = decode(req.body, req.headers.get("content-type"))
        status = Status.of(code, text)
        response: SubmitResponse | CancelResponse | ReplaceResponse
        if isinstance(request, CancelRequest):
            response = CancelResponse(transaction_id=request.transaction_id, status=status)
        elif isinstance(request, ReplaceRequest):
            response = ReplaceResponse(transaction_id=request.transaction_id, status=status)
        else:
            mid = message_id if 1000 <= code < 2000 else None
            response = SubmitResponse(
                transaction_id=request.transaction_id, status=status, message_id=mid
            )
        encoded = encode(response, LGT)
        return http(200, encoded.body, encoded.content_type)

    return act


def fault(code: int | None, http_status: int = 500) -> Action:
    def act(req: Received) -> bytes:
        status = Status.of(code, "from fault") if code is not None else None
        message = SoapFault(
            fault_code="Server",
            fault_string="boom",
            detail_kind="RSErrorRsp" if status else None,
            status=status,
        )
        encoded = encode(message, LGT)
        return http(http_status, encoded.body, encoded.content_type)

    return act


def raw(status: int, body: bytes, content_type: str = "text/html") -> Action:
    return lambda req: http(status, body, content_type)


def truncated_answer(req: Received) -> bytes:
    """A 1000 SubmitRsp in a multipart body whose closing delimiter never came."""
    request = decode(req.body, req.headers.get("content-type"))
    rsp = SubmitResponse(
        transaction_id=request.transaction_id, status=Status.of(1000), message_id="MID-1"
    )
    envelope = encode(rsp, LGT).body
    body = b'--B\r\nContent-Type: text/xml; charset="euc-kr"\r\n\r\n' + envelope + b"\r\n"
    return http(200, body, 'multipart/related; boundary="B"; type="text/xml"')


def dribbled(inner: Action, size: int = 7) -> Action:
    def act(req: Received) -> list[bytes]:
        whole = inner(req)
        assert isinstance(whole, bytes)
        return [whole[i : i + size] for i in range(0, len(whole), size)]

    return act


def chunked(inner: Action) -> Action:
    def act(req: Received) -> list[bytes]:
        whole = inner(req)
        assert isinstance(whole, bytes)
        head, body = whole.split(b"\r\n\r\n", 1)
        head = b"\r\n".join(
            line for line in head.split(b"\r\n") if not line.startswith(b"Content-Length")
        )
        pieces = [head + b"\r\nTransfer-Encoding: chunked\r\n\r\n"]
        for i in range(0, len(body), 50):
            part = body[i : i + 50]
            pieces.append(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        pieces.append(b"0\r\n\r\n")
        return pieces

    return act


def drop(req: Received) -> None:
    return None


def hang(req: Received) -> str:
    return "hang"


@dataclass
class ScriptedServer:
    """Answers the n-th request with ``script[n]`` (the last entry repeats)."""

    script: list[Action]
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/mm7"

    async def start(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                req = Received(lines[0], headers, body)
                self.received.append(req)
                action = self.script[min(len(self.received), len(self.script)) - 1]
                out = action(req)
                if out is None:
                    return
                if out == "hang":
                    await asyncio.sleep(30)
                    return
                if isinstance(out, list):  # dribbled in pieces
                    for piece in out:
                        writer.write(piece)
                        await writer.drain()
                        await asyncio.sleep(0.005)
                    continue
                assert isinstance(out, bytes)
                writer.write(out)
                await writer.drain()
        finally:
            writer.close()


@pytest_asyncio.fixture
async def make_server() -> AsyncIterator[Callable[..., asyncio.Future[ScriptedServer]]]:
    servers: list[ScriptedServer] = []

    def make(*script: Action) -> asyncio.Future[ScriptedServer]:
        server = ScriptedServer(list(script))
        servers.append(server)
        return asyncio.ensure_future(server.start())

    yield make
    for server in servers:
        await server.close()


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
        "clock": FakeClock(),
        "seed": 1,
        "retry": RetryPolicy(base_delay=1.0, jitter=0.5),
    }
    defaults.update(options)
    return MM7Client(url, **defaults)  # type: ignore[arg-type]


def message(to: str = "01012345678", **fields: object) -> SubmitRequest:
    return SubmitRequest(
        to=[to],
        subject="안녕하세요",
        content=[Part.from_text("본문입니다")],
        **fields,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------------
# Wire conventions


@pytest.mark.asyncio
async def test_success_returns_message_id_status_and_fills_defaults(make_server) -> None:
    server = await make_server(answer(1000, "Success", "MID-42"))
    async with client_for(server.url) as client:
        result = await client.submit(message())
    assert result.ok
    assert result.message_id == "MID-42"
    assert result.status == Status("1000", "Success")
    assert result.http_status == 200
    assert result.attempts == 1
    assert result.normalized == normalize_submit_status("1000", "Success")
    assert result.vas_id == "VAS1"
    [req] = server.received
    assert req.transaction_id == result.transaction_id
    sent = decode(req.body, req.headers["content-type"])
    assert isinstance(sent, SubmitRequest)
    assert (sent.vasp_id, sent.vas_id, sent.kisa_orig_code, sent.callback) == (
        "VASP",
        "VAS1",
        "123456789",
        "15881234",
    )
    assert client.stats["VAS1"].sent == 1
    assert client.stats["VAS1"].results == {"success": 1}


@pytest.mark.asyncio
async def test_requests_carry_content_length_soapaction_and_basic_auth(make_server) -> None:
    server = await make_server(answer(1000))
    async with client_for(server.url, username="cp", password=PASSWORD) as client:
        await client.submit(message())
    [req] = server.received
    assert req.head.startswith("POST /mm7 HTTP/1.1")
    assert req.headers["content-length"] == str(len(req.body))
    assert "transfer-encoding" not in req.headers
    assert req.headers["soapaction"] == '""'
    assert req.headers["content-type"].startswith("multipart/related")
    expected = base64.b64encode(f"cp:{PASSWORD}".encode()).decode()
    assert req.headers["authorization"] == f"Basic {expected}"


@pytest.mark.asyncio
async def test_credentials_in_the_url_become_basic_auth_and_leave_the_url(make_server) -> None:
    server = await make_server(answer(1000))
    url = server.url.replace("http://", f"http://cp:{PASSWORD}@")
    async with client_for(url) as client:
        assert PASSWORD not in repr(client)
        assert PASSWORD not in client.url
        await client.submit(message())
    assert server.received[0].headers["authorization"].startswith("Basic ")


@pytest.mark.asyncio
async def test_secrets_never_appear_in_reprs_or_logs(make_server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server = await make_server(answer(4006), answer(1000))
    async with client_for(server.url, username="cp", password=PASSWORD) as client:
        result = await client.submit(message())
        assert result.attempts == 2
        for text in (repr(client), repr(client.transport), repr(result), str(result.to_dict())):
            assert PASSWORD not in text
    assert caplog.records, "the retry must be logged"
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_invalid_message_raises_before_anything_is_sent(make_server) -> None:
    server = await make_server(answer(1000))
    async with client_for(server.url) as client:
        with pytest.raises(ValidationError, match="KisaOrigCode"):
            await client.submit(message(kisa_orig_code="12"))
        with pytest.raises(ValidationError, match="Recipients"):
            await client.submit(SubmitRequest(to=[], subject="x"))
    assert server.received == []
    assert client.stats.get("VAS1") is None or client.stats["VAS1"].sent == 0


# ---------------------------------------------------------------------------------------------
# Normalization of every kind of answer


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("action", "origin", "category", "http_status"),
    [
        (answer(2002, "Address Error"), "2002", Category.FAILED, 200),
        (fault(4004, 500), "4004", Category.FAILED, 500),
        (fault(None, 500), "http_error", Category.RETRY, 500),
        (fault(None, 200), "unparseable", Category.FAILED, 200),
        (raw(502, b"<html><body>Bad gateway</body></html>"), "http_error", Category.RETRY, 502),
        (raw(404, b"<html><body>Not found</body></html>"), "http_error", Category.FAILED, 404),
        (raw(429, b"slow down", "text/plain"), "http_error", Category.RETRY, 429),
        (raw(200, b"not xml at all", "text/xml"), "unparseable", Category.FAILED, 200),
        # a truncated answer is not read as the success it started to say
        (truncated_answer, "unparseable", Category.FAILED, 200),
        (answer(9999, "Weird"), "9999", Category.UNKNOWN, 200),
    ],
)
async def test_every_answer_is_normalized_never_raised(
    make_server, action: Action, origin: str, category: Category, http_status: int
) -> None:
    server = await make_server(action)
    async with client_for(server.url, retry=RetryPolicy.no_retries()) as client:
        result = await client.submit(message())
    assert result.normalized.origin_result == origin
    assert result.category is category
    assert result.http_status == http_status
    assert result.attempts == 1
    assert not result.ambiguous


@pytest.mark.asyncio
async def test_fault_with_status_keeps_the_fault(make_server) -> None:
    server = await make_server(fault(2007))
    async with client_for(server.url) as client:
        result = await client.submit(message())
    assert result.fault is not None and result.fault.fault_code == "Server"
    assert result.to_dict()["fault"] == {"faultcode": "Server", "faultstring": "boom"}
    assert result.normalized.convert_result == 3020


@pytest.mark.asyncio
async def test_connection_refused_is_retried_then_final(make_server) -> None:
    server = await make_server(answer(1000))
    url = server.url
    await server.close()
    clock = FakeClock()
    async with client_for(url, clock=clock, retry=RetryPolicy(max_attempts=3)) as client:
        result = await client.submit(message())
    assert result.normalized.origin_result == "connection_refused"
    assert result.category is Category.RETRY
    assert result.attempts == 3
    assert result.http_status is None
    assert len(clock.sleeps) == 2
    assert client.stats["VAS1"].retries == 2


@pytest.mark.asyncio
async def test_connection_dropped_after_sending_is_ambiguous_and_not_resent(make_server) -> None:
    server = await make_server(drop, answer(1000))
    async with client_for(server.url) as client:
        result = await client.submit(message())
    assert result.ambiguous
    assert result.category is Category.UNKNOWN
    assert result.normalized.origin_result == "ambiguous"
    assert result.attempts == 1
    assert len(server.received) == 1  # never blindly resent
    assert client.stats["VAS1"].ambiguous == 1


@pytest.mark.asyncio
async def test_ambiguous_drops_are_resent_only_when_asked(make_server) -> None:
    server = await make_server(drop, answer(1000))
    policy = RetryPolicy(retry_ambiguous=True)
    async with client_for(server.url, retry=policy) as client:
        result = await client.submit(message())
    assert result.ok
    assert result.attempts == 2
    assert not result.ambiguous


@pytest.mark.asyncio
async def test_timeout_is_normalized_as_timeout(make_server) -> None:
    server = await make_server(hang)
    async with client_for(server.url, total_timeout=0.2, retry=RetryPolicy.no_retries()) as client:
        result = await client.submit(message())
    assert result.normalized.origin_result == "timeout"
    assert result.category is Category.RETRY


# ---------------------------------------------------------------------------------------------
# Retries and throttling (fake clock: a 60-second pause costs nothing)


@pytest.mark.asyncio
async def test_4006_is_retried_with_backoff_and_a_new_transaction_id(make_server) -> None:
    server = await make_server(answer(4006), answer(4006), answer(1000))
    clock = FakeClock()
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, jitter=0.0)
    async with client_for(server.url, clock=clock, retry=policy) as client:
        result = await client.submit(message())
    assert result.ok
    assert result.attempts == 3
    assert clock.sleeps == [1.0, 2.0]
    tids = [r.transaction_id for r in server.received]
    assert len(set(tids)) == 3
    assert result.transaction_id == tids[-1]
    assert client.stats["VAS1"].retries == 2


@pytest.mark.asyncio
async def test_retry_budget_ends_with_the_last_result(make_server) -> None:
    server = await make_server(answer(4006))
    async with client_for(server.url, retry=RetryPolicy(max_attempts=4)) as client:
        result = await client.submit(message())
    assert result.normalized.origin_result == "4006"
    assert result.attempts == 4
    assert len(server.received) == 4


@pytest.mark.asyncio
async def test_4030_pauses_the_vasid_for_60_seconds_then_resends(make_server) -> None:
    server = await make_server(answer(4030, "System error"), answer(1000))
    clock = FakeClock()
    async with client_for(server.url, clock=clock) as client:
        result = await client.submit(message())
        assert result.ok
        assert result.attempts == 2
        assert clock.now() >= 60.0
        assert client.stats["VAS1"].paused == 1
        assert client.stats["VAS1"].throttled_resends == 1


@pytest.mark.asyncio
async def test_4030_holds_every_send_of_that_vasid_but_not_others(make_server) -> None:
    server = await make_server(answer(4030), answer(1000))
    clock = FakeClock(auto_advance=False)
    async with client_for(server.url, clock=clock) as client:
        first = asyncio.create_task(client.submit(message()))
        for _ in range(200):
            if client.throttle_of("VAS1").gate.paused:
                break
            await asyncio.sleep(0.005)
        assert client.throttle_of("VAS1").gate.remaining() == 60.0
        same = asyncio.create_task(client.submit(message("01011112222")))
        other = await client.submit(message("01033334444"), vas_id="VAS2")
        assert other.ok and other.vas_id == "VAS2"
        await asyncio.sleep(0.05)
        assert not same.done() and not first.done()
        assert len(server.received) == 2  # the 4030 and VAS2's message
        clock.advance(60)
        results = await asyncio.gather(first, same)
    assert all(r.ok for r in results)
    assert decode(server.received[1].body, None).vas_id == "VAS2"  # type: ignore[attr-defined]
    assert client.stats["VAS2"].paused == 0


@pytest.mark.asyncio
async def test_configured_pause_replaces_the_tables_60_seconds(make_server) -> None:
    server = await make_server(answer(4030), answer(1000))
    clock = FakeClock()
    async with client_for(server.url, clock=clock, retry=RetryPolicy(pause_seconds=5)) as client:
        assert (await client.submit(message())).ok
    assert clock.now() == pytest.approx(5.0)


@pytest.mark.asyncio
async def test_7103_lowers_the_tps_and_resends(make_server) -> None:
    server = await make_server(answer(7103, "Traffic is over"), answer(1000))
    async with client_for(server.url, tps=10) as client:
        result = await client.submit(message())
        limiter = client.throttle_of().limiter
        assert result.ok and result.attempts == 2
        assert limiter.rate is not None and limiter.rate < 10
        assert client.stats["VAS1"].throttled_7103 == 1
        assert client.stats["VAS1"].slowed_down == 1


@pytest.mark.asyncio
async def test_throttled_budget_returns_the_throttled_result(make_server) -> None:
    server = await make_server(answer(4030))
    policy = RetryPolicy(max_throttled_resends=2)
    async with client_for(server.url, retry=policy) as client:
        result = await client.submit(message())
    assert result.category is Category.THROTTLED
    assert result.normalized.pause_seconds == 60
    assert result.attempts == 3


# ---------------------------------------------------------------------------------------------
# cancel, replace, submit_many, hooks, the sync facade


@pytest.mark.asyncio
async def test_cancel_and_replace(make_server) -> None:
    server = await make_server(answer(1000), answer(2005, "Message ID Not found"))
    async with client_for(server.url) as client:
        cancelled = await client.cancel("MID-1")
        replaced = await client.replace(
            ReplaceRequest(message_id="MID-1", content=[Part.from_text("새 본문")])
        )
    assert cancelled.ok and cancelled.operation == "CancelReq"
    assert replaced.normalized.origin_result == "2005"
    assert replaced.operation == "ReplaceReq"
    assert [r.operation for r in server.received] == ["CancelRequest", "ReplaceRequest"]


@pytest.mark.asyncio
async def test_on_result_is_called_once_per_final_result(make_server) -> None:
    server = await make_server(answer(4006), answer(1000))
    seen: list[tuple[SubmitRequest, SubmitResult]] = []

    async def hook(request: SubmitRequest, result: SubmitResult) -> None:
        seen.append((request, result))

    async with client_for(server.url, on_result=hook) as client:
        result = await client.submit(message())
    assert len(seen) == 1
    assert seen[0][1] is result
    assert seen[0][0].transaction_id == result.transaction_id


@pytest.mark.asyncio
async def test_submit_many_yields_each_input_once_with_errors_in_place(make_server) -> None:
    server = await make_server(answer(1000))
    requests = [message(f"010{i:08d}") for i in range(30)]
    requests[7] = message("01000000007", kisa_orig_code="bad")
    async with client_for(server.url) as client:
        items = [item async for item in client.submit_many(requests, concurrency=4)]
    assert sorted(item.index for item in items) == list(range(30))
    bad = [item for item in items if item.error is not None]
    assert [b.index for b in bad] == [7]
    assert bad[0].result is None
    assert all(item.request is requests[item.index] for item in items)
    assert len(server.received) == 29


@pytest.mark.asyncio
async def test_submit_many_stops_cleanly_when_the_caller_leaves(make_server) -> None:
    server = await make_server(answer(1000))

    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            i += 1
            yield message(f"010{i:08d}")

    async with client_for(server.url) as client:
        seen = 0
        async for _item in client.submit_many(endless(), concurrency=3):
            seen += 1
            if seen == 5:
                break
    assert 5 <= len(server.received) <= 8


def test_sync_facade_sends_from_plain_code() -> None:
    loop = asyncio.new_event_loop()
    server = ScriptedServer([answer(1000, "Success", "MID-S")])
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        with SyncMM7Client(
            server.url,
            transport=TRANSPORT["name"],
            vasp_id="VASP",
            vas_id="VAS1",
            kisa_orig_code="123456789",
            username="cp",
            password=PASSWORD,
        ) as client:
            assert PASSWORD not in repr(client)
            result = client.submit(message())
            many = client.submit_many([message(), message()])
            cancelled = client.cancel("MID-S")
            assert client.stats["VAS1"].sent == 4
        assert result.message_id == "MID-S"
        assert len(many) == 2 and all(item.result and item.result.ok for item in many)
        assert cancelled.ok
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_client_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="concurrency=0"):
        MM7Client("http://127.0.0.1:1/", concurrency=0)
    with pytest.raises(ValueError, match="username and password"):
        MM7Client("http://127.0.0.1:1/", username="only-user")
    with pytest.raises(ValueError, match="profile='nope'"):
        MM7Client("http://127.0.0.1:1/", profile="nope")


@pytest.mark.asyncio
async def test_submit_never_modifies_the_callers_request(make_server) -> None:
    server = await make_server(answer(1000))
    request = message()
    async with client_for(server.url) as client:
        await client.submit(request, vas_id="OTHER")
    assert request.vas_id is None and request.vasp_id is None
    assert request.kisa_orig_code is None and request.transaction_id is None
    assert decode(server.received[0].body, None).vas_id == "OTHER"  # type: ignore[attr-defined]


@pytest.mark.asyncio
@pytest.mark.parametrize("shape", [dribbled, chunked], ids=["dribbled", "chunked"])
async def test_answers_arriving_in_pieces_are_read_whole(make_server, shape) -> None:
    server = await make_server(shape(answer(1000, "Success", "MID-P")))
    async with client_for(server.url) as client:
        result = await client.submit(message())
    assert result.ok and result.message_id == "MID-P" and result.attempts == 1


@pytest.mark.asyncio
async def test_an_oversized_answer_is_refused_unread(make_server) -> None:
    big = raw(200, b"<x>" + b"a" * 5000 + b"</x>", "text/xml")
    server = await make_server(big, chunked(big))
    from mm7client.codec import Limits

    async with client_for(
        server.url, limits=Limits(max_body_bytes=1000), retry=RetryPolicy.no_retries()
    ) as client:
        declared = await client.submit(message())
        streamed = await client.submit(message())
    for result in (declared, streamed):
        assert result.normalized.origin_result == "unparseable"
        assert "exceeds" in (result.normalized.status_text or "")
