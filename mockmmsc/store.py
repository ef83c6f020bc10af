"""What the mock received and sent: requests, answers, delivery reports, and an event bus.

Received requests live in memory (bounded by count and bytes, oldest dropped first). Delivery
reports too (bounded by count: settled ones - acknowledged, given up, expired, undeliverable -
dropped first, oldest first; pending ones only when nothing else is left, and then marked
expired). Every structure is indexed so that what a request costs does not grow with how long
the mock has run. Delivery reports are also written to sqlite when a store file is configured,
so pending ones survive a restart. Every change is published as a small JSON-able event dict;
:meth:`Store.subscribe` is an async iterator of them (the web inbox streams it as server-sent
events).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mm7client.codec import Limits, RequestSummary, decode
from mm7client.codec.mime import DEFAULT_LIMITS
from mm7client.errors import ParseError
from mm7client.model import MM7Message, Part, SubmitRequest

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["ReceivedRequest", "ReportDatabase", "ReportRecord", "Store"]

log = logging.getLogger(__name__)


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class ReportRecord:
    """One delivery report the mock sends (or sent) to a VASP.

    ``acknowledged`` is True only once the VASP answered DeliveryReportRsp 1000 (or, when
    ``accept_empty_200`` is on, an empty HTTP 200). ``attempts`` counts POSTs made so far.
    A report that is not acknowledged ends in one of three ways: ``given_up`` (after
    ``report_max_attempts``), ``expired`` (not acknowledged within ``report_expiry`` seconds,
    or dropped from a full store) or ``undeliverable`` (no report URL for its VASID: never
    sent). :attr:`state` names which.
    """

    id: str
    message_id: str
    recipient: str
    mm_status: str
    status_text: str
    vas_id: str | None = None
    sender: str | None = None
    url: str | None = None
    request_id: int | None = None
    created_at: float = field(default_factory=time.time)
    due_at: float = 0.0
    attempts: int = 0
    acknowledged: bool = False
    acknowledged_at: float | None = None
    sent_at: float | None = None
    last_error: str | None = None
    answer: str | None = None
    given_up: bool = False
    expired: bool = False
    undeliverable: bool = False

    @property
    def pending(self) -> bool:
        """Not acknowledged and still being retried."""
        return not (self.acknowledged or self.given_up or self.expired or self.undeliverable)

    @property
    def state(self) -> str:
        """``pending``, ``acknowledged``, ``given_up``, ``expired`` or ``undeliverable``."""
        if self.acknowledged:
            return "acknowledged"
        if self.undeliverable:
            return "undeliverable"
        if self.expired:
            return "expired"
        if self.given_up:
            return "given_up"
        return "pending"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view."""
        return {
            "id": self.id,
            "message_id": self.message_id,
            "recipient": self.recipient,
            "mm_status": self.mm_status,
            "status_text": self.status_text,
            "vas_id": self.vas_id,
            "sender": self.sender,
            "url": self.url,
            "request_id": self.request_id,
            "created_at": _iso(self.created_at),
            "due_at": _iso(self.due_at),
            "attempts": self.attempts,
            "acknowledged": self.acknowledged,
            "acknowledged_at": _iso(self.acknowledged_at),
            "sent_at": _iso(self.sent_at),
            "last_error": self.last_error,
            "answer": self.answer,
            "given_up": self.given_up,
            "expired": self.expired,
            "undeliverable": self.undeliverable,
            "pending": self.pending,
            "state": self.state,
        }


@dataclass(slots=True, frozen=True)
class HttpHead:
    """The request line and headers of an MM7 request, as received.

    Kept as aiohttp parsed them (header bytes, version tuple) and turned into text only when
    someone looks: recording them costs the MM7 endpoint nothing per request.
    """

    method: str
    path: str
    http_version: tuple[int, int]
    raw_headers: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def of(cls, request: web.BaseRequest) -> HttpHead:
        """The head of an aiohttp request."""
        return cls(request.method, request.raw_path, request.version, request.raw_headers)

    @property
    def version(self) -> str:
        """``1.1``."""
        return f"{self.http_version[0]}.{self.http_version[1]}"

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The header lines as (name, value) text, in the order received."""
        return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw_headers)

    def text(self) -> str:
        """``POST /mm7 HTTP/1.1`` and the header lines."""
        lines = [f"{self.method} {self.path} HTTP/{self.version}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return "\r\n".join(lines) + "\r\n\r\n"


@dataclass(slots=True)
class ReceivedRequest:
    """One HTTP request the MM7 endpoint received, and the answer it got.

    ``envelope`` is what the endpoint answered from: the fields of the SOAP envelope that
    :func:`~mm7client.codec.summarize_request` reads (``None`` when the body could not be read:
    then ``error`` says why). ``status_code`` is the MM7 status answered (a SubmitRsp's or a
    fault's).

    The whole message is decoded from ``raw_body`` the first time anything reads
    :attr:`request`, :attr:`parts` or :attr:`content_types` (``decode_pending`` until then;
    ``check_content`` decodes it while answering). A message whose content cannot be decoded
    (invalid base64, nesting too deep...) was still answered from its envelope: its
    :attr:`request` has the envelope's fields and no content, and ``content_error`` says why.
    """

    id: int
    received_at: float
    operation: str
    envelope: RequestSummary | None
    raw_body: bytes = field(repr=False)
    content_type: str
    message: MM7Message | None = None
    decode_pending: bool = False
    content_error: str | None = None
    status_code: int = 0
    status_text: str | None = None
    http_status: int = 200
    message_id: str | None = None
    transaction_id: str | None = None
    error: str | None = None
    rule_id: str | None = None
    http_head: HttpHead | None = None
    reports: list[ReportRecord] = field(default_factory=list)

    @property
    def request(self) -> MM7Message | None:
        """The decoded message, content included (decoded now if it was pending)."""
        if self.decode_pending:
            self.decode_pending = False
            limits = Limits(max_body_bytes=max(len(self.raw_body), DEFAULT_LIMITS.max_body_bytes))
            try:
                self.message = decode(self.raw_body, self.content_type, limits)
            except ParseError as exc:
                self.content_error = str(exc)
                log.info("request %d: content not decodable: %s", self.id, exc)
                with contextlib.suppress(ParseError):  # still show the envelope's fields
                    self.message = decode(
                        self.raw_body, self.content_type, limits, resolve_content=False
                    )
        return self.message

    @property
    def content_types(self) -> list[str]:
        """The content parts' media types (decodes pending content)."""
        return [part.content_type for part in self.parts]

    @property
    def recipients(self) -> list[str]:
        """The recipients' numbers (SubmitReq), else an empty list."""
        return list(self.envelope.recipients) if self.envelope is not None else []

    @property
    def parts(self) -> list[Part]:
        """The decoded content parts (SubmitReq / ReplaceReq), else an empty list."""
        content = getattr(self.request, "content", None)
        return list(content) if content else []

    @property
    def vas_id(self) -> str | None:
        """The VASID the request came from (``None`` when its envelope was unreadable)."""
        return self.envelope.vas_id if self.envelope is not None else None

    @property
    def subject(self) -> str | None:
        """The SubmitReq's subject."""
        return self.envelope.subject if self.envelope is not None else None

    def summary(self) -> dict[str, Any]:
        """Small JSON-able view (lists and events)."""
        return {
            "id": self.id,
            "received_at": _iso(self.received_at),
            "operation": self.operation,
            "vas_id": self.vas_id,
            "recipients": self.recipients,
            "subject": self.subject,
            "status_code": self.status_code,
            "status_text": self.status_text,
            "http_status": self.http_status,
            "message_id": self.message_id,
            "transaction_id": self.transaction_id,
            "size": len(self.raw_body),
            "parts": len(self.parts),
            "error": self.error,
            "content_error": self.content_error,
            "rule_id": self.rule_id,
            "reports": len(self.reports),
        }

    def to_dict(self) -> dict[str, Any]:
        """Full JSON-able view: the summary, the decoded fields, parts and reports."""
        result = self.summary()
        request = self.request
        fields_: dict[str, Any] = {}
        if request is not None:
            for name in type(request).__dataclass_fields__:
                if name in ("content", "auth_password", "to", "cc", "bcc"):
                    continue
                value = getattr(request, name)
                if value is None or value == []:
                    continue
                fields_[name] = _jsonable(value)
            if isinstance(request, SubmitRequest):
                for kind in ("to", "cc", "bcc"):
                    fields_[kind] = [a.value for a in getattr(request, kind)]
        result["content_type"] = self.content_type
        # the request's TimeStamp: as a date-time when it could be read, and as the text
        # received when it was not ISO 8601 (a Java Date.toString() date...), never lost
        timestamp = getattr(request, "timestamp", None)
        result["timestamp"] = timestamp.isoformat() if timestamp is not None else None
        result["timestamp_raw"] = getattr(request, "timestamp_raw", None)
        result["fields"] = fields_
        result["parts"] = [
            {
                "index": i,
                "content_type": part.content_type,
                "size": len(part.data),
                "filename": part.filename,
                "content_id": part.content_id,
                "charset": part.charset,
                "text": part.text,
                "headers": dict(part.headers),
                "url": f"/api/messages/{self.id}/parts/{i}",
            }
            for i, part in enumerate(self.parts)
        ]
        result["reports"] = [r.to_dict() for r in self.reports]
        result["raw_url"] = f"/api/messages/{self.id}/raw"
        return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return str(value)


class Store:
    """Received requests and delivery reports (both bounded), and the event bus.

    Args:
        max_messages: requests kept (oldest dropped first).
        max_bytes: total raw bytes kept.
        max_reports: report records kept in memory: settled ones (acknowledged, given up,
            expired, undeliverable) are dropped first, oldest settled first; when every kept
            report is pending, the oldest pending one is marked expired and dropped
            (``on_expire`` is told, so its sender stops retrying it).
    """

    def __init__(
        self,
        max_messages: int = 5000,
        max_bytes: int = 256 * 1024 * 1024,
        max_reports: int = 50_000,
    ) -> None:
        if max_messages < 1 or max_reports < 1:
            raise ValueError(f"max_messages={max_messages!r}, max_reports={max_reports!r}: >= 1")
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.max_reports = max_reports
        self._messages: OrderedDict[int, ReceivedRequest] = OrderedDict()
        self._by_message_id: dict[str, ReceivedRequest] = {}
        self._bytes = 0
        self._ids = itertools.count(1)
        # every kept report, oldest first; the pending ones (oldest first) and the settled ones
        # (in the order they settled) indexed apart, so neither adding nor settling nor
        # dropping a report looks at the others
        self._reports: dict[int, ReportRecord] = {}
        self._pending: dict[int, ReportRecord] = {}
        self._settled: OrderedDict[int, ReportRecord] = OrderedDict()
        #: called with a pending report the store expired to stay within ``max_reports``
        self.on_expire: Callable[[ReportRecord], None] | None = None
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self.dropped_events = 0

    # -- requests --------------------------------------------------------------------------

    def next_id(self) -> int:
        """A fresh request id."""
        return next(self._ids)

    def add(self, item: ReceivedRequest) -> None:
        """Keep a received request (after it was answered) and publish it."""
        self._messages[item.id] = item
        self._bytes += len(item.raw_body)
        if item.message_id:
            self._by_message_id[item.message_id] = item
        while self._messages and (
            len(self._messages) > self.max_messages or self._bytes > self.max_bytes
        ):
            _, old = self._messages.popitem(last=False)
            self._forget(old)
        if self._subscribers or self._waiters:
            self.publish({"type": "request", "message": item.summary()})

    def _forget(self, item: ReceivedRequest) -> None:
        self._bytes -= len(item.raw_body)
        if item.message_id and self._by_message_id.get(item.message_id) is item:
            del self._by_message_id[item.message_id]

    @property
    def messages(self) -> list[ReceivedRequest]:
        """Received requests, oldest first."""
        return list(self._messages.values())

    def get(self, request_id: int) -> ReceivedRequest | None:
        """A received request by id."""
        return self._messages.get(request_id)

    def by_message_id(self, message_id: str) -> ReceivedRequest | None:
        """The request that was given ``message_id``."""
        return self._by_message_id.get(message_id)

    def delete(self, request_id: int) -> bool:
        """Forget one request; False when unknown."""
        item = self._messages.pop(request_id, None)
        if item is None:
            return False
        self._forget(item)
        self.publish({"type": "deleted", "id": request_id})
        return True

    def clear(self) -> int:
        """Forget every request; returns how many there were."""
        count = len(self._messages)
        self._messages.clear()
        self._by_message_id.clear()
        self._bytes = 0
        self.publish({"type": "cleared", "count": count})
        return count

    # -- reports ---------------------------------------------------------------------------

    @property
    def reports(self) -> list[ReportRecord]:
        """Kept report records, oldest first."""
        return list(self._reports.values())

    @property
    def pending_reports(self) -> list[ReportRecord]:
        """Kept reports still being sent, oldest first."""
        return list(self._pending.values())

    @property
    def report_count(self) -> int:
        """How many report records are kept."""
        return len(self._reports)

    @property
    def pending_count(self) -> int:
        """How many kept reports are pending."""
        return len(self._pending)

    def add_report(self, record: ReportRecord) -> None:
        """Keep a report record (attached to its request when that is still stored); O(1)."""
        key = id(record)
        self._reports[key] = record
        (self._pending if record.pending else self._settled)[key] = record
        if record.request_id is not None:
            item = self._messages.get(record.request_id)
            if item is not None:
                item.reports.append(record)
        while len(self._reports) > self.max_reports:
            self._drop_oldest_report()
        if self._subscribers or self._waiters:
            self.publish({"type": "report", "report": record.to_dict()})

    def _drop_oldest_report(self) -> None:
        if self._settled:
            key, _ = self._settled.popitem(last=False)
        else:  # every kept report is pending: the oldest expires
            key = next(iter(self._pending))
            record = self._pending.pop(key)
            record.expired = True
            record.last_error = f"expired: more than {self.max_reports} reports kept"
            log.info("report %s expired: the report store is full", record.id)
            if self.on_expire is not None:
                self.on_expire(record)
        del self._reports[key]

    def report_changed(self, record: ReportRecord) -> None:
        """Note a report's new state (after an attempt) and publish it; O(1)."""
        key = id(record)
        if not record.pending and self._pending.pop(key, None) is not None:
            self._settled[key] = record
        if self._subscribers or self._waiters:
            self.publish({"type": "report", "report": record.to_dict()})

    # -- events ----------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every subscriber and wake every waiter (never blocks)."""
        for queue in self._subscribers:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped_events += 1
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def subscribe(self, max_queue: int = 1000) -> AsyncIterator[dict[str, Any]]:
        """Every event from now on, as small JSON-able dicts (slow readers lose events)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(max_queue)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)

    async def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``ready()`` is true (re-checked on each event); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not ready():
            left = deadline - loop.time()
            if left <= 0:
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, min(left, 0.25))
        return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    mm_status TEXT NOT NULL,
    status_text TEXT NOT NULL,
    vas_id TEXT,
    sender TEXT,
    url TEXT,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    acknowledged_at REAL,
    sent_at REAL,
    last_error TEXT,
    answer TEXT,
    given_up INTEGER NOT NULL DEFAULT 0
)
"""
_COLUMNS = (
    "id",
    "message_id",
    "recipient",
    "mm_status",
    "status_text",
    "vas_id",
    "sender",
    "url",
    "created_at",
    "due_at",
    "attempts",
    "acknowledged",
    "acknowledged_at",
    "sent_at",
    "last_error",
    "answer",
    "given_up",
)


class ReportDatabase:
    """Delivery reports in sqlite: written before each attempt, updated after its answer."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise OSError(f"cannot open the report store {path!r}: {exc}") from exc

    def save(self, record: ReportRecord) -> None:
        """Insert or update ``record``."""
        values = [getattr(record, c) for c in _COLUMNS]
        values[_COLUMNS.index("acknowledged")] = int(record.acknowledged)
        # an expired or undeliverable report is not sent again after a restart either
        values[_COLUMNS.index("given_up")] = int(not record.acknowledged and not record.pending)
        marks = ",".join("?" * len(_COLUMNS))
        self._db.execute(
            f"INSERT OR REPLACE INTO reports ({','.join(_COLUMNS)}) VALUES ({marks})", values
        )

    def pending(self) -> list[ReportRecord]:
        """Reports not acknowledged and not given up, oldest first."""
        rows = self._db.execute(
            f"SELECT {','.join(_COLUMNS)} FROM reports "
            "WHERE acknowledged = 0 AND given_up = 0 ORDER BY created_at"
        ).fetchall()
        records = []
        for row in rows:
            data = dict(zip(_COLUMNS, row, strict=True))
            data["acknowledged"] = bool(data["acknowledged"])
            data["given_up"] = bool(data["given_up"])
            records.append(ReportRecord(**data))
        return records

    def close(self) -> None:
        """Close the database."""
        self._db.close()
