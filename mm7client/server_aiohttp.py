"""The aiohttp side of :mod:`mm7client.server` and :mod:`mm7client.observability`.

Kept apart so that ``import mm7client.server`` loads no aiohttp. The receiver and the mock (and
the mock's admin API) read their bodies through :func:`read_body`; both observe their MM7
requests with :func:`observed` / :func:`request_record` and serve ``/metrics``, ``/healthz``
and ``/readyz`` with :func:`add_ops_routes`. Serving an application under
:class:`~mm7client.server.ServerLimits` is :mod:`mm7client.http_server`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from time import perf_counter

from aiohttp import web

from mm7client.http_server import BodyClock, connection_guard
from mm7client.observability import (
    METRICS_HINT,
    RequestRecord,
    ServerObserver,
    package_version,
)
from mm7client.server import STATUS_MESSAGE_FORMAT_CORRUPT, BodyPolicy, Refusal

__all__ = [
    "OBSERVER_KEY",
    "READY_TIMEOUT",
    "Handler",
    "ReadyCheck",
    "RequestRefused",
    "add_ops_routes",
    "observed",
    "read_body",
    "request_record",
]

log = logging.getLogger(__name__)

#: An aiohttp request handler.
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Readiness: returns when the server can do its job, raises (anything) when it cannot.
ReadyCheck = Callable[[], Awaitable[object]]

#: The application's :class:`~mm7client.observability.ServerObserver`.
OBSERVER_KEY = web.AppKey("mm7_observer", ServerObserver)
#: Seconds a readiness check may take before ``/readyz`` answers 503.
READY_TIMEOUT = 2.0
_RECORD_KEY = web.RequestKey("mm7_request_record", RequestRecord)


class RequestRefused(Exception):
    """A request refused while reading it; :attr:`refusal` says what to answer, :attr:`body`
    holds what was read of the body before (for the log, and the TransactionID to echo)."""

    def __init__(self, refusal: Refusal, body: bytes = b"") -> None:
        self.refusal = refusal
        self.body = body
        super().__init__(refusal.reason)


async def read_body(request: web.Request, policy: BodyPolicy) -> bytes:
    """The whole body of ``request``, refused (:class:`RequestRefused`) from its
    Content-Length before reading, as soon as it grows past ``policy.max_bytes`` (chunked or
    lying about its length), when it ends short of its Content-Length or with its connection,
    or when it arrives slower than the policy allows (:meth:`BodyPolicy.allowance`: HTTP
    408)."""
    declared = request.content_length
    refusal = policy.check_declared(declared)
    if refusal is not None:
        raise RequestRefused(refusal)
    stream = request.content
    if stream.is_eof() and stream.exception() is None:
        # the whole body came with its header (the common case of a small request): nothing
        # to wait for, so nothing to time
        body = stream.read_nowait()
        size = len(body)
        if size <= policy.max_bytes and (declared is None or size == declared):
            return body
        refusal = policy.check_read(size) or policy.check_complete(declared, size)
        assert refusal is not None
        raise RequestRefused(refusal, body)
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []
    guard = connection_guard(request)
    try:
        async with asyncio.timeout(None) as deadline:
            # the read ends with TimeoutError once the clock's allowance ran out
            clock = BodyClock(policy, loop.time(), lambda: deadline.reschedule(loop.time()))
            watchdog: _Watchdog | None = None
            if guard is not None:
                guard.body = clock  # the server's sweep watches it: no timer per request
            else:
                watchdog = _Watchdog(loop, clock)
            try:
                while chunk := await stream.readany():
                    clock.received += len(chunk)
                    refusal = policy.check_read(clock.received)
                    if refusal is not None:
                        raise RequestRefused(refusal)
                    chunks.append(chunk)
            finally:
                if guard is not None:
                    guard.body = None
                if watchdog is not None:
                    watchdog.cancel()
    except TimeoutError:
        refusal = policy.too_slow(clock.received, loop.time() - clock.started)
        raise RequestRefused(refusal, b"".join(chunks)) from None
    except ConnectionError as exc:  # the sender left (or the server is stopping)
        reason = f"connection lost after {clock.received} bytes: {exc}"
        refusal = Refusal(400, STATUS_MESSAGE_FORMAT_CORRUPT, reason)
        raise RequestRefused(refusal, b"".join(chunks)) from None
    body = b"".join(chunks)
    refusal = policy.check_complete(declared, clock.received)
    if refusal is not None:
        raise RequestRefused(refusal, body)
    return body


class _Watchdog:
    """A body read's clock watched by a timer, where no server sweep watches it (an
    application served otherwise than by :class:`~mm7client.http_server.AppServer`): it wakes
    when the allowance earned so far would run out, and either waits for what was earned
    since or expires the clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: BodyClock) -> None:
        self._loop = loop
        self._clock = clock
        self._timer = loop.call_later(clock.time_left(clock.started), self._watch)

    def _watch(self) -> None:
        left = self._clock.time_left(self._loop.time())
        if left > 0:
            self._timer = self._loop.call_later(left, self._watch)
        else:
            self._clock.expire()

    def cancel(self) -> None:
        self._timer.cancel()


# -- observation -----------------------------------------------------------------------------


def request_record(request: web.Request) -> RequestRecord:
    """The :class:`RequestRecord` of ``request``, for its handler to fill in (a record nobody
    reads when the handler is not wrapped by :func:`observed`)."""
    try:
        return request[_RECORD_KEY]
    except KeyError:
        record = request[_RECORD_KEY] = RequestRecord()
        return record


def observed(handler: Handler, observer: ServerObserver) -> Handler:
    """``handler`` timed and observed: once it answers, its :func:`request_record` (the HTTP
    status taken from the response when the handler left it unset; the peer's address when
    the line is logged) goes to ``observer.observe``."""

    async def observe(request: web.Request) -> web.StreamResponse:
        record = request[_RECORD_KEY] = RequestRecord()
        started = perf_counter()
        http_status = 500  # a handler that raises answers 500 (or its HTTPException's status)
        try:
            response = await handler(request)
            http_status = response.status
            return response
        except web.HTTPException as exc:
            http_status = exc.status
            raise
        finally:
            record.duration = perf_counter() - started
            if record.http_status is None:
                record.http_status = http_status
            observer.observe(record, request)

    return observe


# -- /metrics, /healthz, /readyz -------------------------------------------------------------


def add_ops_routes(
    app: web.Application,
    observer: ServerObserver,
    *,
    ready: ReadyCheck | None = None,
    healthz: bool = True,
) -> None:
    """Serve ``GET /metrics``, ``GET /readyz`` and (with ``healthz``) ``GET /healthz`` on
    ``app``, keeping ``observer`` as ``app[OBSERVER_KEY]``.

    * ``/metrics``: the observer's registry in the Prometheus text format; 501 with
      :data:`~mm7client.observability.METRICS_HINT` when prometheus-client is missing.
    * ``/healthz``: liveness: 200 ``{"status": "ok", "version": ...}`` while the process
      serves.
    * ``/readyz``: readiness: 200 ``{"status": "ready"}`` when ``ready()`` returns within
      :data:`READY_TIMEOUT` seconds (no check: always), else 503 with the reason.
    """
    app[OBSERVER_KEY] = observer

    async def metrics(_request: web.Request) -> web.Response:
        if not observer.enabled:
            return web.Response(status=501, text=f"/metrics: {METRICS_HINT}\n")
        body, content_type = await observer.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def alive(_request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok", "server": observer.server, "version": package_version()}
        )

    async def readiness(_request: web.Request) -> web.Response:
        if ready is not None:
            try:
                await asyncio.wait_for(ready(), READY_TIMEOUT)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("%s not ready: %s", observer.server, reason)
                return web.json_response(
                    {"status": "not ready", "server": observer.server, "reason": reason},
                    status=503,
                )
        return web.json_response({"status": "ready", "server": observer.server})

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readiness)
    if healthz:
        app.router.add_get("/healthz", alive)
