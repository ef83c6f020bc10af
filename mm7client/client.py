"""The sending client: :class:`MM7Client` (asyncio) and :class:`SyncMM7Client` (for scripts).

A short loop per message: the throttle backend's slot (:mod:`mm7client.throttle`), the sans-IO
codec, one round trip over the transport, and :class:`~mm7client.policy.SendPolicy` deciding
what comes next.
Each message comes back as a :class:`SubmitResult` holding the normalized result
(:mod:`mm7client.codes`)::

    async with MM7Client("https://mmsc.example/mm7", vasp_id="VASP", vas_id="VAS",
                         kisa_orig_code="123456789", callback="15881234") as client:
        result = await client.submit(SubmitRequest(to=["01012345678"], subject="안녕하세요",
                                                   content=[Part.from_text("본문")]))
        print(result.normalized.convert_result, result.message_id)

Carrier status codes never raise; failures below MM7 come back as normalized transport results;
an invalid message raises :class:`~mm7client.errors.ValidationError` before anything is sent.

Throttling, per VASID (the request's ``vas_id``, the ``vas_id`` argument, or the client's):

* 4030 pauses the VASID (the normalized result's pause, 60 s, or ``RetryPolicy.pause_seconds``);
  every send for it waits, then the refused message is resent automatically.
* 7103 lowers the VASID's TPS limiter (which recovers gradually) and resends the message.
* ``retry`` results (4006, 3000, timeouts, connection errors...) are resent after an
  exponential backoff with jitter, each time with a new TransactionID.
* An HTTP 4xx without an MM7 answer (401, 404...) is final (category ``failed``); 5xx pages
  without one are retried.
* A connection lost after the request was sent is final and flagged ``ambiguous``: the MMSC may
  have accepted it, so it is not resent (unless ``RetryPolicy.retry_ambiguous``).

The caller gets one final result per message, with the number of attempts. Every decision is
logged (logger ``mm7client.client`` / ``mm7client.throttle``) and counted in :attr:`stats`.

The transport, by default ``"http11"`` (:mod:`mm7client.http11`): HTTP/1.1 keep-alive
connections on asyncio alone, with TLS (verification on, ``ca_file``, a ready ``ssl_context``)
as the aiohttp one. It is the default because an MM7 sender spends most of its CPU in the HTTP
client: ``bench/client_e2e.py`` measured 213 µs of sender CPU per text message over it against
332 µs over aiohttp (270 / 464 µs with a 50 KB JPEG), 0.87 against 0.66 of a raw aiohttp
client's rate at concurrency 16 in the same run; on a sender bound by its CPU that is a third
more messages per core. ``transport="aiohttp"`` (:class:`~mm7client.transport.AiohttpTransport`)
stays available and passes the same tests (TLS included): the reference when an MMSC's HTTP
server misbehaves in a way only one of the two copes with.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from yarl import URL

from mm7client.codec import EncodedMessage, Limits, encode, new_transaction_id
from mm7client.codes import CodeTable
from mm7client.errors import ValidationError
from mm7client.http11 import Http11Transport
from mm7client.model import (
    Address,
    CancelRequest,
    MM7Message,
    ReplaceRequest,
    SubmitRequest,
)
from mm7client.policy import (
    AttemptState,
    Final,
    Outcome,
    Pause,
    Resend,
    SendPolicy,
    SlowDown,
    SubmitResult,
    TransportFailed,
    read_reply,
)
from mm7client.profiles import CarrierProfile, get_profile
from mm7client.settings import TLS, Identity, Timeouts
from mm7client.throttle import (
    Clock,
    LocalThrottle,
    MonotonicClock,
    RetryPolicy,
    ThrottleBackend,
    ThrottleState,
    VasStats,
    VasThrottle,
)
from mm7client.transport import AiohttpTransport, Transport, TransportError

__all__ = ["MM7Client", "ResultHook", "SubmitManyItem", "SubmitResult", "SyncMM7Client"]

logger = logging.getLogger(__name__)

#: Called once per final result: ``(the request as sent, its result)``.
ResultHook = Callable[[Any, "SubmitResult"], Awaitable[None]]

_Request = TypeVar("_Request", SubmitRequest, CancelRequest, ReplaceRequest)


@dataclass(frozen=True, slots=True)
class SubmitManyItem:
    """One outcome of :meth:`MM7Client.submit_many`, tied to its input.

    Attributes:
        index: position of the request in the input.
        request: the request as given.
        result: its final result; ``None`` when the request was invalid.
        error: the :class:`~mm7client.errors.ValidationError` of an invalid request (nothing
            was sent for it).
    """

    index: int
    request: SubmitRequest
    result: SubmitResult | None
    error: ValidationError | None = None


_G = TypeVar("_G", Identity, TLS, Timeouts)


def _group(kind: type[_G], group: _G | None, name: str, **fields: Any) -> _G:
    """``group``, or one built from its fields given as keywords (never both)."""
    given = {field: value for field, value in fields.items() if value is not None}
    if group is None:
        return kind(**given)
    if given:
        raise ValueError(
            f"{name}= and {', '.join(sorted(given))}= set the same things: give one or the other"
        )
    return group


_COPIERS: dict[type, Callable[[Any], Any]] = {}


def _shallow_copy(obj: _Request) -> _Request:
    """A shallow copy of the dataclass ``obj``, by a copy function compiled once per class.

    A bulk send copies each request to fill in the client's defaults; field by field in
    compiled code this costs a tenth of :func:`copy.copy` (which sets every slot by name).
    """
    cls = type(obj)
    copier = _COPIERS.get(cls)
    if copier is None:
        assigns = "".join(f"    new.{field.name} = old.{field.name}\n" for field in fields(cls))
        source = f"def copy(old):\n    new = make(cls)\n{assigns}    return new\n"
        namespace: dict[str, Any] = {"make": object.__new__, "cls": cls}
        exec(source, namespace)  # the names come from the dataclass's own fields
        copier = _COPIERS[cls] = namespace["copy"]
    copied: _Request = copier(obj)
    return copied


def _redact(url: str) -> tuple[str, str | None, str | None]:
    """The URL without userinfo, and the user / password it held."""
    parsed = URL(url)
    if parsed.user is None and parsed.password is None:
        return url, None, None
    return str(parsed.with_user(None)), parsed.user, parsed.password


class MM7Client:
    """An asyncio MM7 client (VASP -> MMSC) over a transport (by default lean HTTP/1.1).

    The simple call takes every setting as a keyword (see the README); settings that belong
    together can also come grouped (``identity=Identity(...)``, ``timeouts=Timeouts(...)``,
    ``tls=TLS(...)``), but not both ways at once.

    Args:
        url: the MMSC's MM7 endpoint (credentials in the URL are moved to HTTP Basic auth).
        profile: carrier profile name or :class:`~mm7client.profiles.CarrierProfile`
            (default ``"lgt"``).
        identity / vasp_id / vas_id / kisa_orig_code / callback / sender_address: defaults
            filled into every request that lacks them (:class:`~mm7client.settings.Identity`).
        username / password: HTTP Basic credentials (the password also fills ``auth_password``
            where the profile carries one in the envelope). Never logged.
        tps: contracted TPS of the in-process throttle, one value for every VASID or a
            ``{vas_id: tps}`` mapping (``None``: unlimited until the MMSC answers 7103).
        throttle: a :class:`~mm7client.throttle.ThrottleBackend` instead of the in-process one
            (e.g. one shared by several processes); closed with the client.
        clock: the :class:`~mm7client.throttle.Clock` for waits (a ``FakeClock`` in tests).
        on_result: ``async (request, result)`` called once per final result (e.g. the
            receiver store's ``record_submit``).
        retry: the :class:`~mm7client.throttle.RetryPolicy` (budgets, backoff, 4030 pause).
        concurrency: default number of messages in flight in :meth:`submit_many`.
        transport: ``"http11"`` (the default: the lean
            :class:`~mm7client.http11.Http11Transport` on asyncio alone, a third less CPU per
            request), ``"aiohttp"`` (:class:`~mm7client.transport.AiohttpTransport`), or any
            :class:`~mm7client.transport.Transport` (a fake in tests, a wrapper in a fleet),
            closed with the client. The TLS, timeout and pool settings below
            configure the first two and are refused with a Transport object.
        tls / verify_tls / ca_file / ssl_context: TLS settings (verification on by default;
            :class:`~mm7client.settings.TLS`).
        timeouts / connect_timeout / total_timeout: seconds (10 / 30;
            :class:`~mm7client.settings.Timeouts`).
        max_connections: connection pool size (100).
        limits: size limits when decoding answers.
        table: a code table replacing the shipped LGT one.
        seed: seed of the backoff jitter (for reproducible tests).
    """

    def __init__(
        self,
        url: str,
        *,
        profile: str | CarrierProfile = "lgt",
        identity: Identity | None = None,
        vasp_id: str | None = None,
        vas_id: str | None = None,
        kisa_orig_code: str | None = None,
        callback: str | None = None,
        sender_address: str | Address | None = None,
        username: str | None = None,
        password: str | None = None,
        tps: float | Mapping[str, float] | None = None,
        throttle: ThrottleBackend | None = None,
        clock: Clock | None = None,
        on_result: ResultHook | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 16,
        transport: Transport | Literal["aiohttp", "http11"] | None = None,
        tls: TLS | None = None,
        verify_tls: bool | None = None,
        ca_file: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        connect_timeout: float | None = None,
        total_timeout: float | None = None,
        max_connections: int | None = None,
        limits: Limits | None = None,
        table: CodeTable | None = None,
        seed: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency={concurrency!r}: must be at least 1")
        identity = _group(
            Identity,
            identity,
            "identity",
            vasp_id=vasp_id,
            vas_id=vas_id,
            kisa_orig_code=kisa_orig_code,
            callback=callback,
            sender_address=sender_address,
        )
        tls = _group(TLS, tls, "tls", verify=verify_tls, ca_file=ca_file, context=ssl_context)
        timeouts = _group(
            Timeouts, timeouts, "timeouts", connect=connect_timeout, total=total_timeout
        )
        if tps is not None and throttle is not None:
            raise ValueError(
                "tps= configures the in-process throttle; with throttle=, set it there"
            )
        clean_url, url_user, url_password = _redact(url)
        if username is None and url_user is not None:
            username, password = url_user, url_password or ""
        self.url = clean_url
        self.profile = get_profile(profile)
        self.identity = identity
        self.vasp_id = identity.vasp_id
        self.vas_id = identity.vas_id
        self.kisa_orig_code = identity.kisa_orig_code
        self.callback = identity.callback
        self.sender_address = identity.sender
        self.username = username
        self._password = password
        self.clock: Clock = clock or MonotonicClock()
        self.on_result = on_result
        self.retry = retry or RetryPolicy()
        self.concurrency = concurrency
        self.limits = limits or Limits(max_body_bytes=2 * 1024 * 1024)
        self.table = table
        self.policy = SendPolicy(self.retry, table=table, rng=random.Random(seed))
        self._throttle: ThrottleBackend = throttle or LocalThrottle(self.clock, tps)
        if transport is not None and not isinstance(transport, str):
            given = {
                "tls": tls != TLS(),
                "timeouts": timeouts != Timeouts(),
                "max_connections": max_connections is not None,
            }
            if any(given.values()):
                names = ", ".join(name for name, on in given.items() if on)
                raise ValueError(
                    f"{names}: settings of the default transport; with transport=, "
                    "configure the transport you pass"
                )
            self.transport: Transport = transport
        elif transport in (None, "aiohttp", "http11"):
            make = AiohttpTransport if transport == "aiohttp" else Http11Transport
            self.transport = make(
                clean_url,
                username=username,
                password=password if username is not None else None,
                verify_tls=tls.verify,
                ca_file=tls.ca_file,
                ssl_context=tls.context,
                connect_timeout=timeouts.connect,
                total_timeout=timeouts.total,
                max_connections=100 if max_connections is None else max_connections,
                max_response_bytes=self.limits.max_body_bytes,
            )
        else:
            raise ValueError(f"transport={transport!r}: 'aiohttp', 'http11' or a Transport")

    def __repr__(self) -> str:
        user = f", user={self.username!r}" if self.username is not None else ""
        return (
            f"MM7Client({self.url!r}, profile={self.profile.name!r}, vasp_id={self.vasp_id!r}, "
            f"vas_id={self.vas_id!r}{user})"
        )

    async def __aenter__(self) -> MM7Client:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Open the transport now (the default one otherwise connects on first use)."""
        opener = getattr(self.transport, "open", None)
        if opener is not None:
            await opener()

    async def close(self) -> None:
        """Close the transport (also one passed in) and the throttle backend."""
        try:
            await self.transport.aclose()
        finally:
            await self._throttle.aclose()

    # -- statistics ------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, VasStats]:
        """Counters per VASID (live objects): sent, paused, throttled_7103, retries, results."""
        return self._throttle.stats()

    def stats_dict(self) -> dict[str, dict[str, Any]]:
        """:attr:`stats` as plain JSON-friendly dicts."""
        return {vas: stats.as_dict() for vas, stats in self.stats.items()}

    def throttle_state(self, vas_id: str | None = None) -> ThrottleState:
        """The pause and rate of ``vas_id`` (default: the client's VASID), whatever the backend."""
        return self._throttle.state_of(vas_id or self.vas_id or "")

    def throttle_of(self, vas_id: str | None = None) -> VasThrottle:
        """The in-process throttling state of ``vas_id`` (default: the client's VASID)."""
        if not isinstance(self._throttle, LocalThrottle):
            raise TypeError(f"throttle_of needs the in-process backend, not {self._throttle!r}")
        return self._throttle.get(vas_id or self.vas_id or "")

    # -- public operations -----------------------------------------------------------------

    async def submit(self, request: SubmitRequest, *, vas_id: str | None = None) -> SubmitResult:
        """Send a SubmitReq; returns its one final result (retries and waits included).

        ``vas_id`` overrides the request's and the client's VASID (on the wire and for
        throttling). Raises :class:`~mm7client.errors.ValidationError` for an invalid message,
        before anything is sent.
        """
        vas = vas_id or request.vas_id or self.vas_id
        filled = self._fill(
            request,
            vasp_id=self.vasp_id,
            vas_id=vas,
            kisa_orig_code=self.kisa_orig_code,
            callback=self.callback,
            sender_address=self.sender_address,
            auth_password=self._password,
        )
        if vas_id is not None:
            filled = dataclasses.replace(filled, vas_id=vas_id)
        return await self._send(filled, vas or "", "SubmitReq")

    async def cancel(
        self, request: CancelRequest | str, *, vas_id: str | None = None
    ) -> SubmitResult:
        """Send a CancelReq (a request or just the MessageID to cancel)."""
        if isinstance(request, str):
            request = CancelRequest(message_id=request)
        vas = vas_id or request.vas_id or self.vas_id
        filled = self._fill(
            request,
            vasp_id=self.vasp_id,
            vas_id=vas,
            sender_address=self.sender_address,
            auth_password=self._password,
        )
        if vas_id is not None:
            filled = dataclasses.replace(filled, vas_id=vas_id)
        return await self._send(filled, vas or "", "CancelReq")

    async def replace(self, request: ReplaceRequest, *, vas_id: str | None = None) -> SubmitResult:
        """Send a ReplaceReq (new content for a submitted MessageID)."""
        vas = vas_id or request.vas_id or self.vas_id
        filled = self._fill(request, vasp_id=self.vasp_id, vas_id=vas, auth_password=self._password)
        if vas_id is not None:
            filled = dataclasses.replace(filled, vas_id=vas_id)
        return await self._send(filled, vas or "", "ReplaceReq")

    async def submit_many(
        self,
        requests: Iterable[SubmitRequest] | AsyncIterable[SubmitRequest],
        *,
        concurrency: int | None = None,
        vas_id: str | None = None,
    ) -> AsyncIterator[SubmitManyItem]:
        """Send many SubmitReqs, at most ``concurrency`` at a time; yield in completion order.

        Each :class:`SubmitManyItem` carries the input's index and the request; an invalid
        request yields an item with its ``error`` (nothing was sent for it) instead of
        stopping the others. Input is read lazily, so a generator of millions is fine.
        Leaving the loop early cancels the messages still in flight.
        """
        limit = concurrency or self.concurrency
        if limit < 1:
            raise ValueError(f"concurrency={limit!r}: must be at least 1")
        source = _aiter(requests)
        pending: dict[asyncio.Task[SubmitManyItem], int] = {}
        index = 0
        exhausted = False

        async def one(i: int, request: SubmitRequest) -> SubmitManyItem:
            try:
                result = await self.submit(request, vas_id=vas_id)
            except ValidationError as exc:
                return SubmitManyItem(i, request, None, exc)
            return SubmitManyItem(i, request, result)

        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        request = await anext(source)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    task = asyncio.ensure_future(one(index, request))
                    pending[task] = index
                    index += 1
                if not pending:
                    return
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    del pending[task]
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _fill(request: _Request, **defaults: Any) -> _Request:
        changes = {
            name: value
            for name, value in defaults.items()
            if value is not None and getattr(request, name, None) is None
        }
        if not changes:
            return request
        # a shallow copy: the caller's request is never modified
        filled = _shallow_copy(request)
        for name, value in changes.items():
            setattr(filled, name, value)
        return filled

    def _encode(self, message: MM7Message, *, fresh: bool) -> tuple[MM7Message, EncodedMessage]:
        if fresh:
            message = dataclasses.replace(message, transaction_id=new_transaction_id())
        return message, encode(message, self.profile)

    async def _send(self, message: _Request, vas_id: str, operation: str) -> SubmitResult:
        """Carry the message's attempts; :class:`SendPolicy` decides after each one."""
        clock = self.clock
        started = clock.now()
        wall = time.perf_counter()
        # encoding validates: an invalid message raises here, before anything is sent
        sent_message, encoded = self._encode(message, fresh=False)
        throttle = self._throttle
        stats = throttle.stats_of(vas_id)
        state = AttemptState(vas_id, operation, encoded.transaction_id)
        while True:
            await throttle.acquire(vas_id)
            stats.sent += 1
            outcome = await self._exchange(encoded)
            state = state.at(max(clock.now() - started, time.perf_counter() - wall))
            step = self.policy.next_step(state, outcome)
            if isinstance(step, Final):
                return await self._finish(sent_message, step.result, stats)
            code = step.verdict.normalized.origin_result
            if isinstance(step, Resend):
                stats.retries += 1
                logger.info(
                    "%s tid=%s VASID %s got %s (%s): retry %d of %d in %.3f s",
                    operation,
                    state.transaction_id,
                    vas_id,
                    code,
                    step.verdict.normalized.status_text,
                    state.retries + 1,
                    self.retry.max_attempts - 1,
                    step.delay,
                )
                await clock.sleep(step.delay)
            else:
                if isinstance(step, Pause):
                    await throttle.pause(step.vas_id, step.seconds)
                else:
                    await throttle.slow_down(step.vas_id)
                if step.final is not None:
                    return await self._finish(sent_message, step.final, stats)
                stats.throttled_resends += 1
                logger.info(
                    "%s tid=%s VASID %s throttled (%s): resend %d of %d",
                    operation,
                    state.transaction_id,
                    vas_id,
                    code,
                    state.throttled + 1,
                    self.retry.max_throttled_resends,
                )
                if isinstance(step, SlowDown) and step.delay:
                    await clock.sleep(step.delay)
            sent_message, encoded = self._encode(message, fresh=True)
            state = state.after(step, encoded.transaction_id)

    async def _finish(
        self, sent_message: MM7Message, result: SubmitResult, stats: VasStats
    ) -> SubmitResult:
        stats.results[str(result.normalized.category)] += 1
        if result.ambiguous:
            stats.ambiguous += 1
            logger.warning(
                "%s tid=%s VASID %s: outcome unknown, not resent (%s)",
                result.operation,
                result.transaction_id,
                result.vas_id,
                result.normalized.status_text,
            )
        logger.debug(
            "%s tid=%s VASID %s final: %s %s after %d attempt(s)",
            result.operation,
            result.transaction_id,
            result.vas_id,
            result.normalized.origin_result,
            result.normalized.category,
            result.attempts,
        )
        if self.on_result is not None:
            try:
                await self.on_result(sent_message, result)
            except Exception:
                logger.exception("on_result hook failed for tid=%s", result.transaction_id)
        return result

    async def _exchange(self, encoded: EncodedMessage) -> Outcome:
        """One HTTP round trip, decoded (what it means is the policy's to say)."""
        try:
            reply = await self.transport.send(encoded.body, {"Content-Type": encoded.content_type})
        except TransportError as exc:
            logger.debug("tid=%s transport failure: %s", encoded.transaction_id, exc)
            return TransportFailed(exc.kind, exc.detail)
        return read_reply(reply.status, reply.body, reply.content_type, self.limits)


async def _aiter(
    items: Iterable[SubmitRequest] | AsyncIterable[SubmitRequest],
) -> AsyncIterator[SubmitRequest]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


class SyncMM7Client:
    """A blocking facade of :class:`MM7Client` for scripts (not for use inside an event loop).

    Takes the same arguments; use it as a context manager::

        with SyncMM7Client(url, vasp_id="VASP", vas_id="VAS", kisa_orig_code="123456789") as c:
            print(c.submit(SubmitRequest(to=["01012345678"], subject="hi")).normalized)
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self.client = MM7Client(url, **options)
        self._opened = False

    def __repr__(self) -> str:
        return f"Sync{self.client!r}"

    def __enter__(self) -> SyncMM7Client:
        self._runner.run(self.client.open())
        self._opened = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and its event loop."""
        try:
            if self._opened:
                self._runner.run(self.client.close())
                self._opened = False
        finally:
            self._runner.close()

    @property
    def stats(self) -> dict[str, VasStats]:
        """Counters per VASID."""
        return self.client.stats

    def submit(self, request: SubmitRequest, *, vas_id: str | None = None) -> SubmitResult:
        """:meth:`MM7Client.submit`, blocking."""
        return self._runner.run(self.client.submit(request, vas_id=vas_id))

    def cancel(self, request: CancelRequest | str, *, vas_id: str | None = None) -> SubmitResult:
        """:meth:`MM7Client.cancel`, blocking."""
        return self._runner.run(self.client.cancel(request, vas_id=vas_id))

    def replace(self, request: ReplaceRequest, *, vas_id: str | None = None) -> SubmitResult:
        """:meth:`MM7Client.replace`, blocking."""
        return self._runner.run(self.client.replace(request, vas_id=vas_id))

    def submit_many(
        self,
        requests: Iterable[SubmitRequest],
        *,
        concurrency: int | None = None,
        vas_id: str | None = None,
    ) -> list[SubmitManyItem]:
        """:meth:`MM7Client.submit_many`, collected into a list (completion order)."""

        async def collect() -> list[SubmitManyItem]:
            return [
                item
                async for item in self.client.submit_many(
                    requests, concurrency=concurrency, vas_id=vas_id
                )
            ]

        return self._runner.run(collect())
