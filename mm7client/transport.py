"""The client's transport: the :class:`Transport` protocol and its aiohttp implementation.

A transport carries one MM7 request's bytes to the MMSC and brings back the HTTP answer, or
raises :class:`TransportError` saying what failed below HTTP. ``MM7Client(..., transport=...)``
takes any object with these two methods (tests inject a fake one; a fleet can wrap the default)::

    async def send(self, body: bytes, headers: Mapping[str, str]) -> HttpReply: ...
    async def aclose(self) -> None: ...

:class:`AiohttpTransport` (the default; also ``HttpTransport``) POSTs pre-encoded MM7 bodies
(``bytes``, so ``Content-Length`` is always sent, never chunked) with ``SOAPAction: ""``, HTTP
Basic auth, TLS verification on by default (optionally against a custom CA) and connect /
total timeouts. It returns every HTTP answer as an :class:`HttpReply` (whatever its status:
deciding what a body means is the codec's job) and turns every failure below HTTP into a
:class:`TransportError` whose ``kind`` is a :class:`~mm7client.codes.TransportFailure`:

* ``connection_refused`` / ``connection_error``: the request never left (retry is safe);
* ``timeout``: no answer within the deadline;
* ``ambiguous``: the connection dropped after every byte of the request was handed to the
  network - the MMSC may have accepted the message, so it must not be resent blindly.

The transport only reports what happened; what it means (retry, final, ambiguous) is decided by
:mod:`mm7client.policy`.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import aiohttp
from yarl import URL

from mm7client.codes import TransportFailure

__all__ = ["AiohttpTransport", "HttpReply", "HttpTransport", "Transport", "TransportError"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpReply:
    """An HTTP answer: status, body, Content-Type and how long it took (seconds)."""

    status: int
    body: bytes
    content_type: str | None
    elapsed: float


class TransportError(Exception):
    """A failure below HTTP: no answer was received.

    Attributes:
        kind: what failed (:class:`~mm7client.codes.TransportFailure`).
        detail: a short description (exception type and text), free of secrets.
        sent: True when every byte of the request was handed to the network.
    """

    def __init__(self, kind: TransportFailure, detail: str, *, sent: bool = False) -> None:
        self.kind = kind
        self.detail = detail
        self.sent = sent
        super().__init__(f"{kind.value}: {detail}")

    @property
    def ambiguous(self) -> bool:
        """True when the MMSC may have received (and accepted) the request."""
        return self.kind is TransportFailure.AMBIGUOUS


@runtime_checkable
class Transport(Protocol):
    """What :class:`~mm7client.client.MM7Client` needs to exchange bytes with an MMSC."""

    async def send(self, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST ``body`` with the message's ``headers`` (``Content-Type``) to the MMSC.

        Returns every HTTP answer whatever its status; raises :class:`TransportError` when
        none came (its ``kind`` says whether the request may have arrived).
        """
        ...

    async def aclose(self) -> None:
        """Release the connections."""
        ...


class AiohttpTransport:
    """The default :class:`Transport`: one pooled keep-alive aiohttp session, one MMSC URL.

    Args:
        url: the MMSC's MM7 endpoint.
        username / password: HTTP Basic credentials (both or neither); the password never
            appears in logs or reprs.
        verify_tls: verify the server certificate (default True).
        ca_file: a PEM file of CA certificates to trust instead of the system store.
        ssl_context: a ready :class:`ssl.SSLContext` (overrides ``verify_tls`` / ``ca_file``).
        connect_timeout: seconds to establish a connection.
        total_timeout: seconds for a whole request (connect, send, answer).
        max_connections: size of the connection pool.
        max_response_bytes: a larger answer is refused (``unparseable``) without reading it all.
        session: an existing session to use (not closed by :meth:`close`).
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
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together: give both or neither")
        self.url = url
        self.username = username
        self._authorization = (
            basic_authorization(username, password or "") if username is not None else None
        )
        # the headers every request carries, built once
        self._headers = {"SOAPAction": '""'}
        if self._authorization is not None:
            self._headers["Authorization"] = self._authorization
        self._url = URL(url)
        self.verify_tls = verify_tls
        self.ca_file = ca_file
        self._ssl: ssl.SSLContext | bool
        if ssl_context is not None:
            self._ssl = ssl_context
        elif ca_file is not None:
            self._ssl = ssl.create_default_context(cafile=ca_file)
        else:
            self._ssl = bool(verify_tls)
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._session = session
        self._owns_session = session is None

    def __repr__(self) -> str:
        user = f", user={self.username!r}" if self.username is not None else ""
        return f"AiohttpTransport({self.url!r}{user}, verify_tls={self.verify_tls})"

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=self.total_timeout, sock_connect=self.connect_timeout
                ),
                auto_decompress=False,
            )
            self._owns_session = True
        return self._session

    async def open(self) -> None:
        """Create the session now (it is otherwise created on first use)."""
        await self._get_session()

    async def close(self) -> None:
        """Close the session (and its pooled connections) if this transport created it."""
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()

    async def aclose(self) -> None:
        """:meth:`close` (the :class:`Transport` protocol's name)."""
        await self.close()

    async def post(
        self, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> HttpReply:
        """POST ``body`` as ``content_type``; returns the answer or raises TransportError."""
        send_headers = {"Content-Type": content_type}
        if headers:
            send_headers.update(headers)
        return await self.send(body, send_headers)

    async def send(self, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        """POST ``body``; returns the answer or raises :class:`TransportError`."""
        session = self._session
        if session is None or session.closed:
            session = await self._get_session()
        send_headers = {**headers, **self._headers}
        send_headers.pop("Content-Length", None)  # aiohttp writes it from the bytes
        start = time.perf_counter()
        try:
            async with session.post(
                self._url, data=body, headers=send_headers, allow_redirects=False
            ) as response:
                declared = response.content_length
                if declared is not None and declared > self.max_response_bytes:
                    raise TransportError(
                        TransportFailure.UNPARSEABLE,
                        f"HTTP {response.status} answer of {declared} bytes exceeds "
                        f"{self.max_response_bytes}",
                        sent=True,
                    )
                if declared is not None:
                    data = await response.read()
                else:  # chunked or until close: read with a bound
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        size += len(chunk)
                        if size > self.max_response_bytes:
                            raise TransportError(
                                TransportFailure.UNPARSEABLE,
                                f"HTTP {response.status} answer exceeds "
                                f"{self.max_response_bytes} bytes",
                                sent=True,
                            )
                        chunks.append(chunk)
                    data = b"".join(chunks)
                return HttpReply(
                    status=response.status,
                    body=data,
                    content_type=response.headers.get("Content-Type"),
                    elapsed=time.perf_counter() - start,
                )
        except TransportError:
            raise
        except Exception as exc:
            error = classify_error(exc, sent=bool(body) and _request_written(exc))
            if error is None:
                raise
            logger.debug("POST %s failed: %s", self.url, error)
            raise error from exc


#: The name the aiohttp transport had when it was the only one.
HttpTransport = AiohttpTransport


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value of HTTP Basic auth (Latin-1 when possible, else UTF-8)."""
    pair = f"{username}:{password}"
    try:
        raw = pair.encode("latin-1")
    except UnicodeEncodeError:
        raw = pair.encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _request_written(exc: BaseException) -> bool:
    """Whether the request had been handed to the network when ``exc`` was raised.

    aiohttp writes a ``bytes`` body together with the headers, at once, as soon as it holds a
    connection; so every failure after connecting counts as sent, except its writer refusing a
    transport that was already closing (a pooled connection the server had just closed).
    """
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return False
    return not (
        isinstance(exc, aiohttp.ClientConnectionResetError)
        and str(exc) == "Cannot write to closing transport"
    )


def classify_error(exc: BaseException, *, sent: bool) -> TransportError | None:
    """The :class:`TransportError` for an aiohttp / OS exception (``None``: not a network one).

    ``sent`` says whether every byte of the request had been handed to the network: a
    connection lost after that is ``ambiguous``.
    """
    detail = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        refused = isinstance(os_error, ConnectionRefusedError) or (
            getattr(os_error, "errno", None) == errno.ECONNREFUSED
        )
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            return TransportError(TransportFailure.CONNECTION_ERROR, detail)
        kind = TransportFailure.CONNECTION_REFUSED if refused else TransportFailure.CONNECTION_ERROR
        return TransportError(kind, detail)
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return TransportError(TransportFailure.TIMEOUT, f"connect timeout: {detail}")
        return TransportError(TransportFailure.TIMEOUT, detail, sent=sent)
    if isinstance(exc, aiohttp.InvalidURL):
        return None
    if isinstance(exc, aiohttp.ClientResponseError):
        # the peer answered something that is not HTTP
        return TransportError(TransportFailure.UNPARSEABLE, detail, sent=sent)
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientOSError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientConnectionError
        | ConnectionError
        | OSError,
    ):
        if sent:
            return TransportError(TransportFailure.AMBIGUOUS, detail, sent=True)
        return TransportError(TransportFailure.CONNECTION_ERROR, detail)
    return None
