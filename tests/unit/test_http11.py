"""The lean HTTP/1.1 transport against a raw loopback server: framing, reuse and failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from mm7client.codes import TransportFailure
from mm7client.http11 import Http11Transport
from mm7client.transport import Transport, TransportError

Reply = Callable[[bytes], list[bytes] | None]  # request head -> what to write, None: close


class Server:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/mm7?x=1"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                self.heads.append(head)
                pieces = self.reply(head)
                if pieces is None:
                    return
                for piece in pieces:
                    if piece == CLOSE:
                        return
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.002)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Callable[[Reply], asyncio.Future[Server]]]:
    servers: list[Server] = []

    async def start(reply: Reply) -> Server:
        server = Server(reply)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield lambda reply: asyncio.ensure_future(start(reply))
    for server in servers:
        assert server.server is not None
        server.server.close()
        await server.server.wait_closed()


CLOSE = b""  # as the last piece: close the connection after the answer
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<ok/>"


async def post(transport: Http11Transport, body: bytes = b"<req/>") -> tuple[int, bytes]:
    reply = await transport.send(body, {"Content-Type": "text/xml"})
    return reply.status, reply.body


@pytest.mark.asyncio
async def test_keep_alive_reuses_one_connection_and_sends_the_mm7_head(serve) -> None:
    server = await serve(lambda head: [OK])
    transport = Http11Transport(server.url, username="user", password="pw")
    assert isinstance(transport, Transport)
    for _ in range(5):
        assert await post(transport) == (200, b"<ok/>")
    await transport.aclose()
    assert server.connections == 1
    head = server.heads[0].decode()
    assert head.startswith("POST /mm7?x=1 HTTP/1.1\r\n")
    assert 'SOAPAction: ""' in head and "Authorization: Basic dXNlcjpwdw==" in head
    assert "Content-Type: text/xml" in head and "Content-Length: 6" in head


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "pieces",
    [
        [b"HTTP/1.1 100 Continue\r\n\r\n", OK],  # an interim answer first
        [OK[:10], OK[10:40], OK[40:]],  # in pieces
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"2\r\n<o\r\n3;x=y\r\nk/>\r\n0\r\n\r\n",
        ],
    ],
    ids=["interim", "pieces", "chunked"],
)
async def test_answers_are_read_whole_however_they_are_framed(serve, pieces) -> None:
    server = await serve(lambda head: pieces)
    transport = Http11Transport(server.url)
    assert await post(transport) == (200, b"<ok/>")
    assert await post(transport) == (200, b"<ok/>")  # and the connection is still usable
    await transport.aclose()
    assert server.connections == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.0 503 Busy\r\n\r\n<busy/>",  # no length: the body ends with the connection
        b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 7\r\n\r\n<busy/>",
    ],
    ids=["until-close", "connection-close"],
)
async def test_a_connection_the_server_closes_is_read_to_its_end_and_not_reused(
    serve, answer: bytes
) -> None:
    server = await serve(lambda head: [answer, CLOSE])
    transport = Http11Transport(server.url)
    assert await post(transport) == (503, b"<busy/>")
    assert await post(transport) == (503, b"<busy/>")
    await transport.aclose()
    assert server.connections == 2


@pytest.mark.asyncio
async def test_failures_are_transport_errors_of_the_right_kind(serve) -> None:
    garbage = await serve(lambda head: [b"SSH-2.0-OpenSSH\r\n\r\n"])
    with pytest.raises(TransportError) as caught:
        await post(Http11Transport(garbage.url))
    assert caught.value.kind is TransportFailure.UNPARSEABLE

    dropped = await serve(lambda head: None)
    with pytest.raises(TransportError) as caught:
        await post(Http11Transport(dropped.url))
    assert caught.value.kind is TransportFailure.AMBIGUOUS and caught.value.sent

    big = await serve(lambda head: [b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"])
    with pytest.raises(TransportError, match="exceeds 1000") as caught:
        await post(Http11Transport(big.url, max_response_bytes=1000))
    assert caught.value.kind is TransportFailure.UNPARSEABLE

    silent = await serve(lambda head: [])
    with pytest.raises(TransportError) as caught:
        await post(Http11Transport(silent.url, total_timeout=0.1))
    assert caught.value.kind is TransportFailure.TIMEOUT

    port = dropped.url.split(":")[2].split("/")[0]
    assert dropped.server is not None
    dropped.server.close()
    await dropped.server.wait_closed()
    with pytest.raises(TransportError) as caught:
        await post(Http11Transport(f"http://127.0.0.1:{port}/mm7"))
    assert caught.value.kind is TransportFailure.CONNECTION_REFUSED and not caught.value.sent


@pytest.mark.asyncio
async def test_bad_settings_and_headers_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="url='ftp://x/'"):
        Http11Transport("ftp://x/")
    with pytest.raises(ValueError, match="username and password"):
        Http11Transport("http://127.0.0.1/", username="u")
    transport = Http11Transport("http://127.0.0.1:9/")
    with pytest.raises(ValueError, match="X-Evil"):
        await transport.send(b"x", {"X-Evil": "a\r\nHost: elsewhere"})
