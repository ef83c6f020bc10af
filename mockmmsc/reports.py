"""Delivery-report dispatcher: POST LGT-form DeliveryReportReqs, retry with backoff until acked.

A report is written to the store (and sqlite, when configured) *before* its first attempt and
updated after every answer. It is acknowledged only by a DeliveryReportRsp with StatusCode 1000
(or an empty HTTP 200, which LGT peers send, when ``accept_empty_200`` is on). Anything else
- another status, a SOAP fault, an HTTP error, a timeout, a refused connection - is retried
after ``report_retry_base * 2**(attempt-1)`` seconds (capped, scaled by the time scale: the
client's :meth:`~mm7client.throttle.RetryPolicy.backoff` without jitter), until it is given up
(``report_max_attempts``) or expires (not acknowledged within ``report_expiry`` real seconds).
A report whose VASID has no report URL is never sent: it is kept as ``undeliverable`` at once,
not held as pending. Nothing pending outlives these bounds, so a long run accumulates nothing
that each new request would pay for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import aiohttp

from mm7client.codec import Limits, decode, encode
from mm7client.errors import MM7Error
from mm7client.model import Address, DeliveryReportRequest, DeliveryReportResponse
from mm7client.profiles import CarrierProfile
from mm7client.throttle import RetryPolicy
from mockmmsc.settings import MockSettings
from mockmmsc.store import ReportDatabase, ReportRecord, Store

__all__ = ["KST", "ReportDispatcher"]

log = logging.getLogger(__name__)

#: Korea Standard Time: LGT writes report TimeStamps with +09:00.
KST = timezone(timedelta(hours=9), "KST")
_ANSWER_LIMITS = Limits(max_body_bytes=1024 * 1024, max_xml_bytes=1024 * 1024)


class ReportDispatcher:
    """Schedules, sends and retries delivery reports."""

    def __init__(
        self,
        settings: MockSettings,
        profile: CarrierProfile,
        store: Store,
        database: ReportDatabase | None = None,
        max_concurrent: int = 64,
        url_for: Callable[[str | None], str | None] | None = None,
        on_done: Callable[[ReportRecord], None] | None = None,
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.store = store
        self.database = database
        self._url_for = url_for
        #: called once a report is settled after sending: acknowledged, given up or expired
        #: (the metrics count it)
        self.on_done = on_done
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._semaphore = asyncio.Semaphore(max_concurrent)
        store.on_expire = self._stop_sending

    async def start(self) -> None:
        """Open the HTTP session and resume the pending reports of the store file."""
        timeout = aiohttp.ClientTimeout(total=self.settings.report_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        if self.database is not None:
            pending = self.database.pending()
            if pending:
                log.info("resuming %d pending delivery report(s)", len(pending))
            for record in pending:
                self.store.add_report(record)
                self._spawn(record, max(0.0, record.due_at - time.time()))

    async def close(self) -> None:
        """Stop retrying (pending reports stay in the store file) and close the session."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def schedule(self, record: ReportRecord, delay: float) -> None:
        """Keep ``record`` and send it after ``delay`` (already scaled) seconds; without a
        report URL it is kept as undeliverable, never sent."""
        record.due_at = time.time() + delay
        if record.url is None:
            record.undeliverable = True
            record.last_error = "undeliverable: no report URL configured for this VASID"
            log.debug("report %s for %s: %s", record.id, record.vas_id, record.last_error)
        self.store.add_report(record)
        if self.database is not None:
            self.database.save(record)
        if record.pending:
            self._spawn(record, delay)

    def _stop_sending(self, record: ReportRecord) -> None:
        """The store expired ``record``: stop retrying it."""
        task = self._tasks.pop(record.id, None)
        if task is not None:
            task.cancel()
        self._done(record)
        if self.database is not None:
            self.database.save(record)

    def _spawn(self, record: ReportRecord, delay: float) -> None:
        if record.url is None:
            return
        task = asyncio.get_running_loop().create_task(self._run(record, delay))
        self._tasks[record.id] = task
        record_id = record.id

        def forget(_task: asyncio.Task[None]) -> None:
            self._tasks.pop(record_id, None)

        task.add_done_callback(forget)

    @property
    def in_flight(self) -> int:
        """Reports scheduled or being retried."""
        return len(self._tasks)

    def retry_now(self) -> int:
        """Send every waiting report now (admin call); returns how many."""
        count = 0
        for record in self.store.pending_reports:
            if record.url is not None:
                task = self._tasks.pop(record.id, None)
                if task is not None:
                    task.cancel()
                self._spawn(record, 0.0)
                count += 1
        return count

    def _backoff(self, attempts: int) -> float:
        # the client's backoff, without jitter (settings may change between attempts; a
        # negative setting waits no time, as it always did)
        policy = RetryPolicy(
            base_delay=max(0.0, self.settings.report_retry_base),
            max_delay=max(0.0, self.settings.report_retry_max),
            jitter=0.0,
        )
        return self.settings.scaled(policy.backoff(attempts))

    async def _run(self, record: ReportRecord, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        wait = 0.0
        while record.pending:
            async with self._semaphore:
                await self._attempt(record)
            if not record.pending:
                self._save(record)  # after: acknowledged
                self._done(record)
                break
            limit = self.settings.report_max_attempts
            expiry = self.settings.report_expiry
            if limit is not None and record.attempts >= limit:
                record.given_up = True
                log.warning("report %s: giving up after %d attempts", record.id, record.attempts)
            elif expiry is not None and time.time() - record.created_at >= expiry:
                record.expired = True
                record.last_error = (
                    f"expired: not acknowledged in {expiry:g} s ({record.last_error})"
                )
                log.warning("report %s: %s", record.id, record.last_error)
            else:
                wait = self._backoff(record.attempts)
                record.due_at = time.time() + wait
            self._save(record)
            if record.pending:
                await asyncio.sleep(wait)
            else:
                self._done(record)  # given up or expired

    def _done(self, record: ReportRecord) -> None:
        if self.on_done is not None:
            self.on_done(record)

    def _save(self, record: ReportRecord) -> None:
        if self.database is not None:
            try:
                self.database.save(record)
            except Exception:  # a full disk must not stop the mock
                log.exception("cannot save report %s", record.id)
        self.store.report_changed(record)

    def build(self, record: ReportRecord) -> DeliveryReportRequest:
        """The DeliveryReportReq of ``record`` (LGT form with the lgt profile)."""
        return DeliveryReportRequest(
            transaction_id=uuid.uuid4().hex,
            mms_relay_server_id=self.settings.relay_server_id,
            sender=Address(record.sender) if record.sender else None,
            message_id=record.message_id,
            recipient=Address(record.recipient),
            timestamp=datetime.now(KST).replace(microsecond=0),
            mm_status=record.mm_status,
            status_text=record.status_text,
        )

    async def _attempt(self, record: ReportRecord) -> None:
        if self._url_for is not None:
            # the VASID's current URL: a restarted or re-configured mock sends to the new one
            record.url = self._url_for(record.vas_id) or record.url
        assert self._session is not None and record.url is not None
        encoded = encode(self.build(record), self.profile)
        record.attempts += 1
        record.sent_at = time.time()
        self._save(record)  # before: the attempt is on record even if we crash now
        try:
            async with self._session.post(
                record.url, data=encoded.body, headers=encoded.headers
            ) as response:
                body = await _read_limited(response, _ANSWER_LIMITS.max_body_bytes + 1)
                self._judge(record, response.status, body, response.headers.get("Content-Type"))
        except asyncio.CancelledError:
            record.last_error = "cancelled (mock stopped)"
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            record.last_error = f"{type(exc).__name__}: {exc}"
            record.answer = None
        log.debug("report %s attempt %d: %s", record.id, record.attempts, record.last_error)

    def _judge(
        self, record: ReportRecord, http_status: int, body: bytes, content_type: str | None
    ) -> None:
        if http_status == 200 and not body.strip():
            if self.settings.accept_empty_200:
                self._acknowledge(record, "empty HTTP 200")
            else:
                record.last_error = "empty HTTP 200 (not accepted: accept_empty_200 is off)"
            return
        try:
            message = decode(body, content_type, _ANSWER_LIMITS)
        except MM7Error as exc:
            record.answer = f"HTTP {http_status}"
            record.last_error = f"HTTP {http_status}, unreadable answer: {exc}"
            return
        if isinstance(message, DeliveryReportResponse):
            code = message.status.code_int
            record.answer = f"{message.status.code} {message.status.text or ''}".strip()
            if code == 1000:
                self._acknowledge(record, record.answer)
            else:
                record.last_error = f"DeliveryReportRsp status {record.answer}"
            return
        record.answer = type(message).__name__
        record.last_error = f"HTTP {http_status}, answer {type(message).__name__} is not an ack"

    @staticmethod
    def _acknowledge(record: ReportRecord, answer: str) -> None:
        record.acknowledged = True
        record.acknowledged_at = time.time()
        record.answer = answer
        record.last_error = None


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The answer body up to ``limit`` bytes, however slowly it arrives (one ``read(n)`` only
    returns what is buffered so far)."""
    data = bytearray()
    while len(data) < limit:
        chunk = await response.content.read(limit - len(data))
        if not chunk:
            break
        data.extend(chunk)
    return bytes(data)
