"""Serving an aiohttp application so that no connection is held forever.

The receiver and the mock MMSC both run through :class:`AppServer`; it applies
:class:`~mm7client.server.ServerLimits` where aiohttp alone does not:

* **its own accept loop** (public asyncio API: ``sock_accept`` + ``connect_accepted_socket``
  on its own listening sockets): at most :meth:`ServerLimits.connection_cap` connections are
  served at once, further ones wait in the kernel's listen backlog (they cost this process no
  descriptor); an accept error such as ``EMFILE`` ("Too many open files") pauses accepting for
  :data:`ACCEPT_RETRY_DELAY` and is logged once per ``accept_error_interval`` with a count, not
  once per attempt (asyncio's own accept loop logs a traceback each time);
* **a guard on each connection** (a protocol wrapping aiohttp's): a connection must deliver a
  complete request header within ``header_timeout`` of opening, or of its first byte after an
  answer (a partial header is answered 408, then closed; a silent connection is closed), and an
  idle keep-alive connection is closed after ``idle_timeout`` (aiohttp's ``keepalive_timeout``
  is a second longer, a backstop). The application's handler, wrapped where aiohttp's
  low-level server calls it, tells the guard when a request's handler runs, so a request being
  handled is never cut. Timed-out connections are counted in one log line per interval, not
  one each;
* the body's time is bounded where it is read: :func:`mm7client.server_aiohttp.read_body` under
  :meth:`ServerLimits.body_policy` (a total bound and a minimum rate, HTTP 408 beyond them). A
  body nobody reads is drained for aiohttp's lingering time (10 s) at most, then the
  connection closes.

No timer per request: each connection keeps its deadline (and its body read's
:class:`BodyClock`) as plain numbers, and one sweep per server, every quarter of the shortest
of ``header_timeout``, ``idle_timeout`` and ``body_grace`` (at most :data:`SWEEP_MAX_PERIOD`),
closes or refuses what is past its time. A deadline is thus kept at most one sweep period late.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mm7client.server import BodyPolicy, OncePerInterval, ServerLimits

__all__ = ["SWEEP_MAX_PERIOD", "AppServer", "BodyClock", "connection_guard", "descriptor_limit"]

log = logging.getLogger(__name__)

#: accept() errors about one connection only (the peer went away before it was accepted);
#: any other (EMFILE, ENFILE, ENOBUFS...) pauses accepting and is logged once per interval.
_CONNECTION_ERRNOS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
#: Seconds accepting pauses after an accept error.
ACCEPT_RETRY_DELAY = 0.1
#: Seconds a timed-out connection gets to take its 408 before it is aborted.
_CLOSE_GRACE = 1.0
#: The longest period of a server's sweep over its connections' deadlines (seconds).
SWEEP_MAX_PERIOD = 0.5
_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

#: What aiohttp's low-level server calls for every request (the application's ``_handle``).
_LowLevelHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def descriptor_limit() -> int | None:
    """The process's soft limit on open descriptors (``None`` when unknown or unlimited)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)


class _LogOncePerInterval:
    """A log line told at most once per interval: the events in between are counted, and told
    at the end of the interval even when no further event comes."""

    def __init__(self, interval: float, level: int, template: str) -> None:
        self._rule = OncePerInterval(interval)
        self._level = level
        self._template = template  # %-formatted with the count, then the event's arguments
        self._args: tuple[object, ...] = ()
        self._flush: asyncio.TimerHandle | None = None

    def event(self, *args: object) -> None:
        loop = asyncio.get_running_loop()
        self._args = args
        count = self._rule.due(loop.time())
        if count is not None:
            log.log(self._level, self._template, count, *args)
        elif self._flush is None and self._rule.next_line is not None:
            self._flush = loop.call_at(self._rule.next_line, self._tell_quiet)

    def _tell_quiet(self) -> None:
        self._flush = None
        count = self._rule.flush(asyncio.get_running_loop().time())
        if count is not None:
            log.log(self._level, self._template, count, *self._args)

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None


class BodyClock:
    """The time bound of one body read (:meth:`BodyPolicy.time_left`), kept as plain numbers:
    the reader adds what it received; whoever watches the read (the server's sweep, or a
    watchdog timer) calls :attr:`expire` once no time is left."""

    __slots__ = ("expire", "policy", "received", "started")

    def __init__(self, policy: BodyPolicy, started: float, expire: Callable[[], None]) -> None:
        self.policy = policy
        self.started = started
        self.received = 0
        self.expire = expire

    def time_left(self, now: float) -> float:
        """Seconds the read may still wait for more (``<= 0``: the time is up)."""
        return self.policy.time_left(self.received, now - self.started)


class _Connection(asyncio.Protocol):
    """One accepted connection: aiohttp's protocol, wrapped with the header and idle deadlines
    (plain numbers that the server's sweep checks: no timer per request)."""

    def __init__(self, server: AppServer, inner: asyncio.Protocol) -> None:
        self._server = server
        self._inner = inner
        self._limits = server.limits
        loop = server._loop
        assert loop is not None  # connections come once the server started
        self._time = loop.time  # the clock the sweep reads
        self._transport: asyncio.Transport | None = None
        #: loop time past which the sweep closes the connection (``inf``: a handler runs)
        self.deadline = math.inf
        #: the body being read by :func:`mm7client.server_aiohttp.read_body`, if any
        self.body: BodyClock | None = None
        # "header": waiting for a request header (bytes of it may have come: _partial);
        # "active": a handler runs; "idle": answered, waiting for the next request
        self._state = "header"
        self._partial = False

    # -- asyncio.Protocol, forwarded to aiohttp --------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.deadline = self._time() + self._limits.header_timeout
        self._server._opened(self)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._state == "idle":
            self._state = "header"
            self.deadline = self._time() + self._limits.header_timeout
        if self._state == "header":
            self._partial = True
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = math.inf
        self._transport = None
        self._server._closed(self)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    # -- what the tracked handler says ------------------------------------------------------

    def request_started(self) -> None:
        """A request's handler runs: no connection deadline until it answered."""
        self._state = "active"
        self._partial = False
        self.deadline = math.inf

    def request_finished(self) -> None:
        """The handler answered: the connection may idle for ``idle_timeout``."""
        self._state = "idle"
        self.body = None
        if self._transport is not None:
            self.deadline = self._time() + self._limits.idle_timeout

    # -- what the sweep does ---------------------------------------------------------------

    def expired(self) -> None:
        """The deadline passed: answer 408 to a partial header, close the connection."""
        self.deadline = math.inf
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        peer = transport.get_extra_info("peername")
        if self._state == "header" and self._partial:
            log.debug("%s: %s's request header took too long", self._server.name, peer)
            transport.write(_REQUEST_TIMEOUT)
            self._server._log_late_header.event()
        elif self._state == "header":
            log.debug("%s: %s sent nothing", self._server.name, peer)
            self._server._log_silent.event()
        else:
            log.debug("%s: closed idle connection %s", self._server.name, peer)
        transport.close()
        # a peer that reads nothing must not keep the 408 (and the descriptor) pending
        asyncio.get_running_loop().call_later(_CLOSE_GRACE, transport.abort)


def connection_guard(request: web.BaseRequest) -> _Connection | None:
    """The guard of ``request``'s connection when an :class:`AppServer` serves it (its sweep
    then watches a body read set as the guard's ``body``), else ``None``."""
    transport = request.transport
    guard = transport.get_protocol() if transport is not None else None
    return guard if isinstance(guard, _Connection) else None


def _tracked(handler: _LowLevelHandler) -> _LowLevelHandler:
    """``handler`` (the application's, as aiohttp's low-level server calls it for every
    request) telling the connection's guard that a handler runs: no header or idle deadline
    meanwhile. One coroutine call per request, where a middleware would cost two (aiohttp adds
    its own to every application that has one)."""

    async def track(request: web.BaseRequest) -> web.StreamResponse:
        guard = connection_guard(request)
        if guard is None:
            return await handler(request)
        guard.request_started()
        try:
            return await handler(request)
        finally:
            guard.request_finished()

    return track


class _Site(web.BaseSite):
    """A TCP site whose connections :class:`AppServer` accepts itself."""

    __slots__ = ("_host", "_owner", "_port", "_tasks", "sockets")

    def __init__(self, runner: web.AppRunner, owner: AppServer, host: str, port: int) -> None:
        super().__init__(runner, backlog=owner.limits.backlog)
        self._owner = owner
        self._host = host
        self._port = port
        self.sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        self.sockets = _listen(self._host, self._port, self._backlog)
        await super().start()
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            self._tasks.append(loop.create_task(self._owner._accept_loop(sock)))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in self.sockets:
            sock.close()
        await super().stop()


def _listen(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to (as ``loop.create_server``)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen: set[tuple[int, Any]] = set()
    bound_port = 0
    try:
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            if port == 0 and bound_port:  # one free port for every address of the name
                address = (address[0], bound_port, *address[2:])
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                where = f"{host!r} port {port}"
                raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from None
            bound_port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class AppServer:
    """An aiohttp application on TCP under :class:`~mm7client.server.ServerLimits`.

    ``async with AppServer(app, port=0) as server: ...`` listens on a free port (read it back
    from :attr:`port`). Used by :class:`mm7client.receiver.ReceiverServer` and the mock MMSC.

    Args:
        app: the application.
        host: the address to listen on (a name may resolve to several).
        port: the TCP port; 0 picks a free one.
        limits: timeouts and the connection cap (default :class:`ServerLimits()`).
        shutdown_timeout: seconds in-flight requests get to finish on :meth:`stop`.
        name: how the log names this server.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ServerLimits | None = None,
        shutdown_timeout: float = 5.0,
        name: str = "server",
    ) -> None:
        self.app = app
        self.host = host
        self.limits = limits or ServerLimits()
        self.name = name
        self.cap = self.limits.connection_cap(descriptor_limit())
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._site: _Site | None = None
        self._connections: set[_Connection] = set()
        self._room = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # one timer for every deadline: a deadline is kept up to this much late
        limits = self.limits
        shortest = min(limits.header_timeout, limits.idle_timeout, limits.body_grace)
        self._sweep_period = min(SWEEP_MAX_PERIOD, shortest / 4)
        self._sweeper: asyncio.TimerHandle | None = None
        every = self.limits.accept_error_interval
        self._log_accept_error = _LogOncePerInterval(
            every,
            logging.ERROR,
            f"{name} cannot accept connections (%d time(s) since the last report): %s; "
            "%d connections open; raise the descriptor limit or lower max_connections",
        )
        self._log_at_cap = _LogOncePerInterval(
            every,
            logging.WARNING,
            f"{name}: the cap of connections reached %d time(s) since the last report "
            "(%d open); new ones wait in the listen backlog",
        )
        self._log_late_header = _LogOncePerInterval(
            every,
            logging.INFO,
            f"{name}: closed %d connection(s) whose request header took too long (408) "
            "since the last report",
        )
        self._log_silent = _LogOncePerInterval(
            every,
            logging.INFO,
            f"{name}: closed %d connection(s) that sent nothing since the last report",
        )
        #: accept errors since start (logged or not)
        self.accept_error_count = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting (``OSError`` when the address is taken)."""
        if self._runner is not None:
            raise RuntimeError(f"{self.name} is already started")
        self._loop = asyncio.get_running_loop()
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=self._shutdown_timeout,
            # the guard closes idle connections; aiohttp's own timer (which also runs from a
            # connection's opening) is only the backstop, so that a late header gets its 408
            keepalive_timeout=max(self.limits.idle_timeout, self.limits.header_timeout)
            + _CLOSE_GRACE,
        )
        await runner.setup()
        server = runner.server
        assert server is not None
        server.request_handler = _tracked(server.request_handler)
        site = _Site(runner, self, self.host, self._requested_port)
        self._runner = runner
        try:
            await site.start()
        except BaseException:
            self._runner = None
            await runner.cleanup()
            raise
        self._site = site
        log.debug("%s: serving at most %d connections at once", self.name, self.cap)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (up to ``shutdown_timeout``), close
        every connection."""
        runner, self._runner = self._runner, None
        self._site = None
        if runner is not None:
            await runner.cleanup()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for line in (
            self._log_accept_error,
            self._log_at_cap,
            self._log_late_header,
            self._log_silent,
        ):
            line.close()

    async def __aenter__(self) -> AppServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def addresses(self) -> list[Any]:
        """The socket addresses listened on (after :meth:`start`)."""
        if self._site is None:
            raise RuntimeError(f"{self.name} is not started")
        return [sock.getsockname() for sock in self._site.sockets]

    @property
    def port(self) -> int:
        """The TCP port listened on (after :meth:`start`)."""
        return int(self.addresses[0][1])

    @property
    def open_connections(self) -> int:
        """Connections open right now."""
        return len(self._connections)

    # -- connections -----------------------------------------------------------------------

    def _opened(self, connection: _Connection) -> None:
        self._connections.add(connection)
        if self._sweeper is None and self._loop is not None and self._runner is not None:
            self._sweeper = self._loop.call_later(self._sweep_period, self._sweep)

    def _sweep(self) -> None:
        """Close the connections past their deadline, end the body reads past theirs; runs
        every ``_sweep_period`` while connections are open."""
        self._sweeper = None
        if not self._connections or self._loop is None:
            return  # the next connection starts the sweep again
        now = self._loop.time()
        for connection in [c for c in self._connections if c.deadline <= now or c.body is not None]:
            body = connection.body
            if body is not None and body.time_left(now) <= 0:
                connection.body = None
                body.expire()
            if connection.deadline <= now:
                connection.expired()
        self._sweeper = self._loop.call_later(self._sweep_period, self._sweep)

    def _closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if len(self._connections) < self.cap:
            self._room.set()

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        protocol = self._protocol_factory()
        while True:
            while len(self._connections) >= self.cap:
                self._room.clear()
                self._log_at_cap.event(len(self._connections))
                await self._room.wait()
            try:
                conn, _address = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno in _CONNECTION_ERRNOS:
                    continue
                self.accept_error_count += 1
                self._log_accept_error.event(exc, len(self._connections))
                await asyncio.sleep(ACCEPT_RETRY_DELAY)
                continue
            try:
                conn.setblocking(False)
                await loop.connect_accepted_socket(lambda: _Connection(self, protocol()), conn)
            except Exception as exc:  # the peer left at once, or the protocol failed
                log.debug("%s: dropped a connection at its start: %s", self.name, exc)
                conn.close()

    def _protocol_factory(self) -> Callable[[], asyncio.Protocol]:
        # the aiohttp Server makes the protocol (a RequestHandler) of every connection
        runner = self._runner
        server = runner.server if runner is not None else None
        if server is None:
            raise RuntimeError(f"{self.name} is not set up")
        return server
