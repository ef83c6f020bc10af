"""A lean HTTP/1.1 :class:`~mm7client.transport.Transport` on asyncio alone (aiohttp unused).

An MM7 client needs little of HTTP: POST a body of known length to one URL, over a few
keep-alive connections (TLS or not), and read the answer. :class:`Http11Transport` does just
that, with the per-request work cut to the bone: the request head is one prepared prefix plus
two header lines, the head and the body leave in one write, the answer is parsed by a small
protocol object feeding one future (no task, no stream reader, no per-request session objects).
It costs the client about a third of aiohttp's CPU per request; ``MM7Client(...,
transport="http11")`` selects it. It follows the same contract as the aiohttp transport:

* every HTTP answer (any status) comes back as an :class:`~mm7client.transport.HttpReply`, read
  whole whether sized, chunked or delimited by the close, 1xx interim answers skipped;
* an answer over ``max_response_bytes`` is refused (``unparseable``) without reading it all;
* failures below HTTP raise :class:`~mm7client.transport.TransportError`: ``connection_refused``
  / ``connection_error`` before anything was sent, ``timeout`` (connect or total), ``ambiguous``
  when the connection was lost after the request was written, ``unparseable`` when the peer
  does not speak HTTP/1.x.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from mm7client.codes import TransportFailure
from mm7client.transport import HttpReply, TransportError, basic_authorization

__all__ = ["Http11Transport"]

logger = logging.getLogger(__name__)

#: The most bytes an answer's status line and headers may take.
MAX_HEAD_BYTES = 64 * 1024
_SKIPPED_HEADERS = frozenset({"content-length", "host", "transfer-encoding", "connection"})


class _Lost(Exception):
    """The connection closed before the answer was complete."""


class _Answer:
    __slots__ = ("body", "content_type", "keep_alive", "status")

    def __init__(self, status: int, content_type: str | None, body: bytes, keep_alive: bool):
        self.status = status
        self.content_type = content_type
        self.body = body
        self.keep_alive = keep_alive


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parses the answer to the request in flight into a future."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[_Answer] | None = None
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.head_done = False
        self.length: int | None = None
        self.chunked = False
        self.keep_alive = True
        self.content_type: str | None = None
        self.chunks = bytearray()

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            # bytes nobody asked for (on an idle connection, or after a failure): unusable
            self.close()
            return
        self.buffer += data
        try:
            self._parse(waiter)
        except TransportError as exc:
            self.close()
            waiter.set_exception(exc)

    def eof_received(self) -> bool:
        self.closed = True  # the peer sends no more: no further request on this connection
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.head_done and self.length is None and not self.chunked:
            # an answer delimited by the close: complete now
            self._finish(waiter, bytes(self.buffer), keep_alive=False)
            return
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "closed by the peer"
        received = len(self.buffer) + len(self.chunks)
        waiter.set_exception(
            _Lost(
                f"connection lost after sending ({reason}; {received} bytes of the answer received)"
            )
        )

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- parsing ----------------------------------------------------------------------------

    def _parse(self, waiter: asyncio.Future[_Answer]) -> None:
        buffer = self.buffer
        while not self.head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise _unparseable(f"answer head exceeds {MAX_HEAD_BYTES} bytes")
                return
            self._read_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            if 100 <= self.status < 200:  # an interim answer (100 Continue...): skip it
                self._reset()
        if self.length is not None:
            if len(buffer) >= self.length:
                body = bytes(buffer[: self.length])
                del buffer[: self.length]
                self._finish(waiter, body, self.keep_alive and not buffer)
        elif self.chunked:
            self._read_chunks(waiter)
        elif len(buffer) > self.max_body:
            raise _unparseable(f"HTTP {self.status} answer exceeds {self.max_body} bytes")

    def _read_head(self, raw: bytes) -> None:
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise _unparseable(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        self.status = int(code)
        self.keep_alive = version == "HTTP/1.1"
        self.head_done = True
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise _unparseable(f"malformed header line {line[:80]!r}")
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length":
                if not value.isdigit() or (self.length is not None and int(value) != self.length):
                    raise _unparseable(f"bad Content-Length {value[:40]!r}")
                self.length = int(value)
            elif name == "content-type":
                self.content_type = value
            elif name == "transfer-encoding":
                self.chunked = "chunked" in value.lower()
            elif name == "connection":
                tokens = value.lower()
                if "close" in tokens:
                    self.keep_alive = False
                elif "keep-alive" in tokens:
                    self.keep_alive = True
        if self.chunked:
            self.length = None
        elif self.status in (204, 304):
            self.length = 0
        if self.length is not None and self.length > self.max_body:
            raise _unparseable(
                f"HTTP {self.status} answer of {self.length} bytes exceeds {self.max_body}"
            )
        if self.length is None and not self.chunked:
            self.keep_alive = False  # delimited by the close

    def _read_chunks(self, waiter: asyncio.Future[_Answer]) -> None:
        buffer = self.buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > 1024:
                    raise _unparseable("malformed chunk size line")
                return
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _unparseable(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                end = buffer.find(b"\r\n\r\n", line_end)
                if end < 0:
                    return
                del buffer[: end + 4]
                self._finish(waiter, bytes(self.chunks), self.keep_alive and not buffer)
                return
            if len(self.chunks) + size > self.max_body:
                raise _unparseable(f"HTTP {self.status} answer exceeds {self.max_body} bytes")
            start = line_end + 2
            if len(buffer) < start + size + 2:
                return
            self.chunks += buffer[start : start + size]
            del buffer[: start + size + 2]

    def _finish(self, waiter: asyncio.Future[_Answer], body: bytes, keep_alive: bool) -> None:
        answer = _Answer(self.status, self.content_type, body, keep_alive)
        self._reset()
        self.waiter = None
        waiter.set_result(answer)


def _unparseable(detail: str) -> TransportError:
    return TransportError(TransportFailure.UNPARSEABLE, detail, sent=True)


def _expire(waiter: asyncio.Future[_Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Http11Transport:
    """POSTs MM7 bodies to one URL over pooled keep-alive HTTP/1.1 connections (asyncio only).

    Takes the same settings as :class:`~mm7client.transport.AiohttpTransport` (without a
    ``session``): HTTP Basic credentials, TLS verification (on by default, optionally against
    ``ca_file``, or a ready ``ssl_context``), connect / total timeouts in seconds, the pool size
    and the largest answer read.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        verify_tls: bool = True,
        ca_file: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_connections: int = 100,
        max_response_bytes: int = 2 * 1024 * 1024,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together: give both or neither")
        if max_connections < 1:
            raise ValueError(f"max_connections={max_connections!r}: must be at least 1")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url={url!r}: an http:// or https:// URL with a host is needed")
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials go in username= / password=, not in the URL")
        self.url = url
        self.username = username
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.verify_tls = verify_tls
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            if ssl_context is not None:
                self._ssl = ssl_context
            else:
                self._ssl = ssl.create_default_context(cafile=ca_file)
                if not verify_tls:
                    self._ssl.check_hostname = False
                    self._ssl.verify_mode = ssl.CERT_NONE
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if parts.scheme == "https" else 80
        authority = host if self.port == default_port else f"{host}:{self.port}"
        prefix = f'POST {target} HTTP/1.1\r\nHost: {authority}\r\nSOAPAction: ""\r\n'
        if username is not None:
            prefix += f"Authorization: {basic_authorization(username, password or '')}\r\n"
        self._prefix = prefix.encode("latin-1")
        self._idle: list[_Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    def __repr__(self) -> str:
        user = f", user={self.username!r}" if self.username is not None else ""
        return f"Http11Transport({self.url!r}{user}, verify_tls={self.verify_tls})"

    async def send(self, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST ``body``; returns the answer or raises :class:`TransportError`."""
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        deadline = loop.time() + self.total_timeout
        head = self._head(len(body), headers)
        connection = await self._acquire(loop, deadline)
        waiter: asyncio.Future[_Answer] = loop.create_future()
        connection.waiter = waiter
        transport = connection.transport
        assert transport is not None
        if len(body) < 16384:
            transport.write(head + body)
        else:
            transport.writelines((head, body))
        timer = loop.call_at(deadline, _expire, waiter)
        answer = None
        try:
            answer = await waiter
        except _Lost as exc:
            raise TransportError(TransportFailure.AMBIGUOUS, str(exc), sent=True) from None
        except TimeoutError:
            raise TransportError(
                TransportFailure.TIMEOUT, f"no answer within {self.total_timeout} s", sent=True
            ) from None
        finally:
            timer.cancel()
            self._release(connection, reuse=answer is not None and answer.keep_alive)
        return HttpReply(
            answer.status, answer.body, answer.content_type, time.perf_counter() - start
        )

    def _head(self, length: int, headers: Mapping[str, str]) -> bytes:
        lines = []
        for name, value in headers.items():
            if name.lower() in _SKIPPED_HEADERS:
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"header {name!r}: {value!r} cannot be sent")
            lines.append(f"{name}: {value}\r\n")
        lines.append(f"Content-Length: {length}\r\n\r\n")
        return self._prefix + "".join(lines).encode("latin-1")

    async def _acquire(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        self._closed = False  # used again after aclose(): it reopens, as the aiohttp one does
        slots = self._slots
        if slots is None:
            slots = self._slots = asyncio.Semaphore(self.max_connections)
        if slots.locked():
            try:
                async with asyncio.timeout_at(deadline):
                    await slots.acquire()
            except TimeoutError:
                raise TransportError(
                    TransportFailure.TIMEOUT, "no free connection within the total timeout"
                ) from None
        else:
            await slots.acquire()
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
            connection.close()
        try:
            return await self._connect(loop, deadline)
        except BaseException:
            slots.release()
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        limit = max(0.0, min(self.connect_timeout, deadline - loop.time()))
        max_body = self.max_response_bytes
        try:
            async with asyncio.timeout(limit):
                _, connection = await loop.create_connection(
                    lambda: _Connection(max_body),
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                )
        except TimeoutError:
            raise TransportError(
                TransportFailure.TIMEOUT, f"connect timeout ({limit:.3g} s)"
            ) from None
        except ConnectionRefusedError as exc:
            raise TransportError(
                TransportFailure.CONNECTION_REFUSED, f"{type(exc).__name__}: {exc}"
            ) from None
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            raise TransportError(
                TransportFailure.CONNECTION_ERROR, f"{type(exc).__name__}: {exc}"
            ) from None
        return connection

    def _release(self, connection: _Connection, *, reuse: bool) -> None:
        connection.waiter = None
        if reuse and not connection.closed and not self._closed:
            self._idle.append(connection)
        else:
            connection.close()
        if self._slots is not None:
            self._slots.release()

    async def open(self) -> None:
        """Nothing to do: connections are made on first use."""

    async def aclose(self) -> None:
        """Close the idle connections; those in use close when their answer is read."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()
        await asyncio.sleep(0)  # let the transports finish closing

    async def close(self) -> None:
        """:meth:`aclose`."""
        await self.aclose()
