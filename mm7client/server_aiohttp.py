"""The aiohttp side of :mod:`mm7client.server`: reading a request body under a
:class:`~mm7client.server.BodyPolicy`.

Kept apart so that ``import mm7client.server`` loads no aiohttp; the receiver and the mock (and
the mock's admin API) read their bodies through :func:`read_body`. Serving an application under
:class:`~mm7client.server.ServerLimits` is :mod:`mm7client.http_server`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from mm7client.server import STATUS_MESSAGE_FORMAT_CORRUPT, BodyPolicy, Refusal

__all__ = ["RequestRefused", "read_body"]


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
    loop = asyncio.get_running_loop()
    started = loop.time()
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(None) as deadline:
            # one watchdog, not a timer per chunk: it wakes when the allowance earned so far
            # would run out, and either waits for what was earned since or ends the read
            watchdog: asyncio.TimerHandle

            def watch() -> None:
                nonlocal watchdog
                left = policy.time_left(size, loop.time() - started)
                if left > 0:
                    watchdog = loop.call_later(left, watch)
                else:
                    deadline.reschedule(loop.time())  # the read ends with TimeoutError

            watchdog = loop.call_later(policy.time_left(0, 0.0), watch)
            try:
                while chunk := await stream.readany():
                    size += len(chunk)
                    refusal = policy.check_read(size)
                    if refusal is not None:
                        raise RequestRefused(refusal)
                    chunks.append(chunk)
            finally:
                watchdog.cancel()
    except TimeoutError:
        refusal = policy.too_slow(size, loop.time() - started)
        raise RequestRefused(refusal, b"".join(chunks)) from None
    except ConnectionError as exc:  # the sender left (or the server is stopping)
        reason = f"connection lost after {size} bytes: {exc}"
        refusal = Refusal(400, STATUS_MESSAGE_FORMAT_CORRUPT, reason)
        raise RequestRefused(refusal, b"".join(chunks)) from None
    body = b"".join(chunks)
    refusal = policy.check_complete(declared, size)
    if refusal is not None:
        raise RequestRefused(refusal, body)
    return body
