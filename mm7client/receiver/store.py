"""Durable storage of what the MMSC sends: :class:`ReceiverStore` and :class:`SqliteStore`.

The receiver acknowledges a DeliveryReportReq, DeliverReq or ReadReplyReq only after
:meth:`ReceiverStore.add` has returned, so a store must make the item durable *before* ``add``
returns. Consumers read unhandled items with :meth:`ReceiverStore.pending` or
:meth:`ReceiverStore.iter_pending` and call :meth:`ReceiverStore.mark_handled` when they are done
with one; a consumer that crashes before that sees the item again.

Plugging another database: implement the :class:`ReceiverStore` protocol. The pure helpers
:func:`dedup_key` and :func:`normalize_item` give the same duplicate key and normalized result
the embedded store uses.

Duplicate key (an MMSC resends a report it thinks was lost):

* delivery reports and read replies: kind + MessageID + recipient + MMStatus (case-folded).
  The TransactionID is *not* part of it: a resending MMSC may or may not reuse it, and the same
  report carried twice is still one billing record.
* MO messages (DeliverReq, which has no MessageID): sender + recipients + TimeStamp + LinkedID +
  Subject + a digest of every content part; the TransactionID is added only when the message
  has no TimeStamp (two identical texts from one sender would otherwise collapse).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from mm7client.codes import Category, CodeTable, NormalizedResult, normalize_report
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliveryReportRequest,
    Part,
    ReadReplyRequest,
    SubmitRequest,
)

__all__ = [
    "AddResult",
    "IncomingMessage",
    "ItemKind",
    "ReceiverStore",
    "SqliteStore",
    "StoredItem",
    "SubmitOutcome",
    "SubmitRecord",
    "dedup_key",
    "kind_of",
    "normalize_item",
]

log = logging.getLogger(__name__)

#: What the receiver stores: ``"delivery_report"``, ``"deliver"`` (MO message) or ``"read_reply"``.
ItemKind = Literal["delivery_report", "deliver", "read_reply"]

#: The three requests an MMSC sends to a VASP.
IncomingMessage = DeliveryReportRequest | DeliverRequest | ReadReplyRequest

_T = TypeVar("_T")


@runtime_checkable
class SubmitOutcome(Protocol):
    """What :meth:`ReceiverStore.record_submit` reads from the client's submit result."""

    @property
    def message_id(self) -> str | None:
        """The MessageID the MMSC assigned (``None`` when the submit failed)."""

    @property
    def transaction_id(self) -> str | None:
        """The TransactionID of the SubmitReq."""

    @property
    def normalized(self) -> NormalizedResult | None:
        """The normalized SubmitRsp result."""


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    """A submit recorded by the client (``on_result`` hook), used to correlate reports.

    Attributes:
        message_id: the MessageID the MMSC returned for the submit.
        transaction_id: the SubmitReq's TransactionID.
        recipients: every recipient of the submit (To, Cc, Bcc).
        vas_id: the VASID it was sent under.
        subject: the subject, if any.
        normalized: the normalized SubmitRsp result.
        recorded_at: when it was recorded (UTC).
    """

    message_id: str
    transaction_id: str | None
    recipients: tuple[str, ...]
    vas_id: str | None
    subject: str | None
    normalized: NormalizedResult | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One stored delivery report, MO message or read reply.

    Attributes:
        id: the store's identifier (increasing in arrival order).
        kind: ``"delivery_report"``, ``"deliver"`` or ``"read_reply"``.
        message_id: MessageID of the submitted message (reports and read replies).
        transaction_id: the TransactionID the item arrived with (first arrival).
        recipient: the report's recipient; for an MO message the first recipient.
        sender: the Sender address, if given.
        mm_status: the MMStatus as received (reports and read replies).
        status_text: the StatusText as received.
        normalized: the normalized result of a delivery report (``None`` for other kinds).
        received_at: when it was first stored (UTC).
        handled: True once a consumer called :meth:`ReceiverStore.mark_handled`.
        submit: the correlated submit recorded by the client, or ``None``.
        recipients: every recipient of an MO message (To, Cc, Bcc).
        subject: the subject of an MO message.
        linked_id: the LinkedID of an MO message.
        timestamp: the TimeStamp the MMSC wrote, if any.
        parts: the content parts of an MO message.
        duplicates: how many times the same item arrived again (and was acknowledged again).
        handled_at: when it was marked handled (UTC), else ``None``.
    """

    id: int
    kind: ItemKind
    message_id: str | None
    transaction_id: str | None
    recipient: str | None
    sender: str | None
    mm_status: str | None
    status_text: str | None
    normalized: NormalizedResult | None
    received_at: datetime
    handled: bool
    submit: SubmitRecord | None = None
    recipients: tuple[str, ...] = ()
    subject: str | None = None
    linked_id: str | None = None
    timestamp: datetime | None = None
    parts: tuple[Part, ...] = field(default=(), repr=False)
    duplicates: int = 0
    handled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddResult:
    """What :meth:`ReceiverStore.add` did: the stored item and whether it was new."""

    item: StoredItem
    created: bool


@runtime_checkable
class ReceiverStore(Protocol):
    """The storage interface of the receiver: implement it to plug another database.

    Contract:

    * :meth:`add` returns only once the item is durable (committed); the receiver answers the
      MMSC after that. An item whose :func:`dedup_key` is already stored is not stored again:
      ``add`` returns the stored one with ``created=False``.
    * :meth:`pending` / :meth:`iter_pending` give items not yet marked handled, oldest first.
    * :meth:`mark_handled` is the only way an item stops being pending.
    * :meth:`record_submit` matches the client's ``on_result`` hook; stored items correlate with
      the submit recorded for their MessageID, whichever arrived first.
    """

    async def add(
        self,
        message: IncomingMessage,
        *,
        raw_body: bytes = b"",
        content_type: str | None = None,
    ) -> AddResult:
        """Store ``message`` durably (or find its duplicate) and return the stored item."""
        ...

    async def pending(
        self, *, kind: ItemKind | None = None, limit: int | None = None
    ) -> list[StoredItem]:
        """Items not yet handled, oldest first."""
        ...

    def iter_pending(
        self,
        *,
        kind: ItemKind | None = None,
        poll_interval: float = 1.0,
        stop_when_empty: bool = False,
    ) -> AsyncIterator[StoredItem]:
        """Yield each pending item once, then wait for new ones (until ``stop_when_empty``)."""
        ...

    async def mark_handled(self, item: int | StoredItem) -> bool:
        """Mark an item handled; False when it was already handled or does not exist."""
        ...

    async def get(self, item_id: int) -> StoredItem | None:
        """One item by id, handled or not."""
        ...

    async def record_submit(self, request: SubmitRequest, result: SubmitOutcome) -> None:
        """Record a submit for correlation (signature of the client's ``on_result`` hook)."""
        ...

    async def close(self) -> None:
        """Release the store's resources."""
        ...


# ---------------------------------------------------------------------------------------------
# Pure helpers shared by every store


def kind_of(message: IncomingMessage) -> ItemKind:
    """The item kind of an incoming request."""
    if isinstance(message, DeliveryReportRequest):
        return "delivery_report"
    if isinstance(message, ReadReplyRequest):
        return "read_reply"
    if isinstance(message, DeliverRequest):
        return "deliver"
    raise TypeError(f"message={type(message).__name__!r}: not a request the receiver stores")


def _address(value: Address | None) -> str | None:
    return None if value is None else value.value.strip()


def dedup_key(message: IncomingMessage) -> str:
    """The duplicate key of an incoming request (see the module documentation)."""
    kind = kind_of(message)
    fields: list[str]
    if isinstance(message, DeliveryReportRequest | ReadReplyRequest):
        fields = [
            kind,
            message.message_id.strip(),
            _address(message.recipient) or "",
            message.mm_status.strip().casefold(),
        ]
    else:
        fields = [
            kind,
            _address(message.sender) or "",
            ",".join(a.value.strip() for a in [*message.to, *message.cc, *message.bcc]),
            message.timestamp.isoformat() if message.timestamp else "",
            message.linked_id or "",
            message.subject or "",
        ]
        for part in message.content:
            data = part.data or (part.text or "").encode("utf-8")
            fields.append(f"{part.content_type}:{hashlib.sha256(data).hexdigest()}")
        if message.timestamp is None:
            fields.append(message.transaction_id or "")
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def normalize_item(
    message: IncomingMessage, table: CodeTable | None = None
) -> NormalizedResult | None:
    """The normalized result of a delivery report (``None`` for other kinds)."""
    if isinstance(message, DeliveryReportRequest):
        return normalize_report(message.mm_status, message.status_text, table=table)
    return None


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_NORMALIZED_FIELDS = frozenset(f.name for f in dataclasses.fields(NormalizedResult))


def _normalized_to_json(result: NormalizedResult | None) -> str | None:
    if result is None:
        return None
    data = dataclasses.asdict(result)
    data["category"] = str(result.category)
    return json.dumps(data, ensure_ascii=False)


def _normalized_from_json(text: str | None) -> NormalizedResult | None:
    if not text:
        return None
    data = {k: v for k, v in json.loads(text).items() if k in _NORMALIZED_FIELDS}
    data["category"] = Category(data.get("category", "unknown"))
    return NormalizedResult(**data)


# ---------------------------------------------------------------------------------------------
# SQLite


_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    dedup_key      TEXT NOT NULL UNIQUE,
    message_id     TEXT,
    transaction_id TEXT,
    recipient      TEXT,
    recipients     TEXT NOT NULL DEFAULT '[]',
    sender         TEXT,
    mm_status      TEXT,
    status_text    TEXT,
    normalized     TEXT,
    subject        TEXT,
    linked_id      TEXT,
    timestamp      TEXT,
    received_at    TEXT NOT NULL,
    handled_at     TEXT,
    duplicates     INTEGER NOT NULL DEFAULT 0,
    last_seen_at   TEXT,
    content_type   TEXT,
    raw_body       BLOB
);
CREATE INDEX IF NOT EXISTS items_pending ON items(id) WHERE handled_at IS NULL;
CREATE INDEX IF NOT EXISTS items_message_id ON items(message_id);
CREATE TABLE IF NOT EXISTS parts (
    item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    filename     TEXT,
    content_id   TEXT,
    charset      TEXT,
    headers      TEXT NOT NULL DEFAULT '{}',
    text         TEXT,
    data         BLOB NOT NULL,
    PRIMARY KEY (item_id, idx)
);
CREATE TABLE IF NOT EXISTS submits (
    message_id     TEXT PRIMARY KEY,
    transaction_id TEXT,
    recipients     TEXT NOT NULL DEFAULT '[]',
    vas_id         TEXT,
    subject        TEXT,
    normalized     TEXT,
    recorded_at    TEXT NOT NULL
);
"""

_ITEM_COLUMNS = (
    "i.id, i.kind, i.message_id, i.transaction_id, i.recipient, i.recipients, i.sender, "
    "i.mm_status, i.status_text, i.normalized, i.subject, i.linked_id, i.timestamp, "
    "i.received_at, i.handled_at, i.duplicates, "
    "s.message_id, s.transaction_id, s.recipients, s.vas_id, s.subject, s.normalized, "
    "s.recorded_at"
)
_SELECT_ITEMS = (
    f"SELECT {_ITEM_COLUMNS} FROM items i LEFT JOIN submits s ON s.message_id = i.message_id"
)

_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


class SqliteStore:
    """The embedded store: one sqlite file in WAL mode.

    Durability guarantee: with the default ``synchronous="FULL"`` every item is in the
    write-ahead log *and fsynced* before :meth:`add` returns, so an acknowledged item survives a
    crash of the process and of the machine (power loss). ``synchronous="NORMAL"`` skips the
    per-commit fsync: acknowledged items still survive a crash of the process (SIGKILL), but the
    last ones may be lost on power loss. ``":memory:"`` keeps nothing (tests).

    Every sqlite call runs on one worker thread owned by the store, never on the event loop.
    Other processes may open the same file (e.g. a consumer reading and marking items handled);
    :meth:`iter_pending` polls to see their writes.

    Args:
        path: the sqlite file (created if missing), or ``":memory:"``.
        synchronous: ``"FULL"`` (default), ``"EXTRA"`` or ``"NORMAL"``, see above.
        keep_raw: also store the raw HTTP body of each item (the original billing record).
        code_table: the table used to normalize delivery reports (default: the shipped one).
        busy_timeout: seconds to wait for another process's write lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        keep_raw: bool = True,
        code_table: CodeTable | None = None,
        busy_timeout: float = 10.0,
    ) -> None:
        mode = synchronous.upper()
        if mode not in _SYNCHRONOUS:
            raise ValueError(
                f"synchronous={synchronous!r}: expected one of {', '.join(_SYNCHRONOUS)}"
            )
        self.path = os.fspath(path)
        self.synchronous = mode
        self.keep_raw = keep_raw
        self.code_table = code_table
        self.busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mm7-store")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._waiters: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r}, synchronous={self.synchronous!r})"

    async def __aenter__(self) -> SqliteStore:
        await self._run(lambda conn: None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- worker thread -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))

    async def close(self) -> None:
        """Close the database (pending writes are already committed)."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, shut)
        self._executor.shutdown(wait=True)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- writing -------------------------------------------------------------------------------

    async def add(
        self,
        message: IncomingMessage,
        *,
        raw_body: bytes = b"",
        content_type: str | None = None,
    ) -> AddResult:
        """Store ``message`` and commit; a duplicate is counted, not stored again.

        Returns once the transaction is committed (see the class's durability guarantee).
        """
        kind = kind_of(message)
        key = dedup_key(message)
        normalized = normalize_item(message, self.code_table)
        now = _now()
        raw = raw_body if self.keep_raw else None

        def write(conn: sqlite3.Connection) -> tuple[int, bool]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                item_id, created = self._insert(
                    conn, message, kind, key, normalized, now, raw, content_type
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return item_id, created

        item_id, created = await self._run(write)
        item = await self.get(item_id)
        if item is None:  # pragma: no cover - deleted by another process between two calls
            raise RuntimeError(f"item {item_id} vanished from {self.path!r} right after add")
        if created:
            self._wake()
        return AddResult(item, created)

    @staticmethod
    def _insert(
        conn: sqlite3.Connection,
        message: IncomingMessage,
        kind: ItemKind,
        key: str,
        normalized: NormalizedResult | None,
        now: datetime,
        raw: bytes | None,
        content_type: str | None,
    ) -> tuple[int, bool]:
        row = conn.execute("SELECT id FROM items WHERE dedup_key = ?", (key,)).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE items SET duplicates = duplicates + 1, last_seen_at = ? WHERE id = ?",
                (_iso(now), row[0]),
            )
            return int(row[0]), False
        if isinstance(message, DeliverRequest):
            recipients = [a.value for a in (*message.to, *message.cc, *message.bcc)]
            values: dict[str, Any] = {
                "message_id": None,
                "recipient": recipients[0] if recipients else None,
                "recipients": json.dumps(recipients),
                "mm_status": None,
                "status_text": None,
                "subject": message.subject,
                "linked_id": message.linked_id,
            }
        else:
            values = {
                "message_id": message.message_id,
                "recipient": message.recipient.value,
                "recipients": json.dumps([message.recipient.value]),
                "mm_status": message.mm_status,
                "status_text": message.status_text,
                "subject": None,
                "linked_id": None,
            }
        cursor = conn.execute(
            "INSERT INTO items (kind, dedup_key, message_id, transaction_id, recipient, "
            "recipients, sender, mm_status, status_text, normalized, subject, linked_id, "
            "timestamp, received_at, content_type, raw_body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                key,
                values["message_id"],
                message.transaction_id,
                values["recipient"],
                values["recipients"],
                _address(message.sender),
                values["mm_status"],
                values["status_text"],
                _normalized_to_json(normalized),
                values["subject"],
                values["linked_id"],
                _iso(message.timestamp),
                _iso(now),
                content_type,
                raw,
            ),
        )
        item_id = cursor.lastrowid
        assert item_id is not None
        if isinstance(message, DeliverRequest):
            conn.executemany(
                "INSERT INTO parts (item_id, idx, content_type, filename, content_id, charset, "
                "headers, text, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        item_id,
                        index,
                        part.content_type,
                        part.filename,
                        part.content_id,
                        part.charset,
                        json.dumps(dict(part.headers), ensure_ascii=False),
                        part.text,
                        part.data,
                    )
                    for index, part in enumerate(message.content)
                ],
            )
        return item_id, True

    async def mark_handled(self, item: int | StoredItem) -> bool:
        """Mark an item handled (committed before returning).

        Returns False when it was already handled or does not exist.
        """
        item_id = item.id if isinstance(item, StoredItem) else int(item)
        now = _iso(_now())

        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE items SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                (now, item_id),
            )
            return cursor.rowcount > 0

        return await self._run(write)

    async def record_submit(self, request: SubmitRequest, result: SubmitOutcome) -> None:
        """Record a submit so reports for its MessageID correlate with it.

        Matches the client's ``on_result`` hook: ``MM7Client(..., on_result=store.record_submit)``.
        Only SubmitReqs with a MessageID are recorded (failed submits, CancelReq and ReplaceReq
        results are ignored). Recording the same MessageID again replaces the record.
        """
        message_id = getattr(result, "message_id", None)
        if not isinstance(request, SubmitRequest) or not message_id:
            log.debug("not recorded for correlation: %s without MessageID", type(request).__name__)
            return
        transaction_id = getattr(result, "transaction_id", None) or request.transaction_id
        vas_id = getattr(result, "vas_id", None) or request.vas_id
        normalized = getattr(result, "normalized", None)
        if not isinstance(normalized, NormalizedResult):
            normalized = None
        recipients = json.dumps([a.value for a in request.recipients])
        now = _iso(_now())

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO submits (message_id, transaction_id, recipients, vas_id, "
                "subject, normalized, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(message_id),
                    transaction_id,
                    recipients,
                    vas_id,
                    request.subject,
                    _normalized_to_json(normalized),
                    now,
                ),
            )

        await self._run(write)

    # -- reading -------------------------------------------------------------------------------

    async def get(self, item_id: int) -> StoredItem | None:
        """One item by id, handled or not."""
        found = await self._select("WHERE i.id = ?", (item_id,))
        return found[0] if found else None

    async def pending(
        self, *, kind: ItemKind | None = None, limit: int | None = None
    ) -> list[StoredItem]:
        """Items not yet handled, oldest first."""
        return await self._pending_after(0, kind, limit)

    async def items(
        self,
        *,
        kind: ItemKind | None = None,
        message_id: str | None = None,
        handled: bool | None = None,
        limit: int | None = None,
    ) -> list[StoredItem]:
        """Stored items, oldest first, filtered by kind, MessageID and handled state."""
        clauses: list[str] = []
        params: list[Any] = []
        if kind is not None:
            clauses.append("i.kind = ?")
            params.append(kind)
        if message_id is not None:
            clauses.append("i.message_id = ?")
            params.append(message_id)
        if handled is not None:
            clauses.append("i.handled_at IS NOT NULL" if handled else "i.handled_at IS NULL")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return await self._select(where, params, limit)

    async def find_submit(self, message_id: str) -> SubmitRecord | None:
        """The submit recorded for ``message_id``, if any."""

        def read(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
            row: tuple[Any, ...] | None = conn.execute(
                "SELECT message_id, transaction_id, recipients, vas_id, subject, normalized, "
                "recorded_at FROM submits WHERE message_id = ?",
                (message_id,),
            ).fetchone()
            return row

        row = await self._run(read)
        return None if row is None else _submit_from_row(row)

    async def iter_pending(
        self,
        *,
        kind: ItemKind | None = None,
        poll_interval: float = 1.0,
        stop_when_empty: bool = False,
    ) -> AsyncIterator[StoredItem]:
        """Yield every pending item once, oldest first, then each new one as it is stored.

        An item stays pending until :meth:`mark_handled`; a new iterator (e.g. after a restart)
        yields the unhandled ones again. Items written by another process are seen within
        ``poll_interval`` seconds; ``stop_when_empty`` ends the iteration when nothing is
        pending.
        """
        loop = asyncio.get_running_loop()
        last_id = 0
        while not self._closed:
            wake: asyncio.Future[None] = loop.create_future()
            self._waiters.add(wake)
            try:
                batch = await self._pending_after(last_id, kind, 100)
                if not batch:
                    if stop_when_empty:
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(wake), poll_interval)
                    continue
            finally:
                self._waiters.discard(wake)
            for item in batch:
                last_id = item.id
                yield item

    def _wake(self) -> None:
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    async def _pending_after(
        self, after_id: int, kind: ItemKind | None, limit: int | None
    ) -> list[StoredItem]:
        where = "WHERE i.handled_at IS NULL AND i.id > ?"
        params: list[Any] = [after_id]
        if kind is not None:
            where += " AND i.kind = ?"
            params.append(kind)
        return await self._select(where, params, limit)

    async def _select(
        self, where: str, params: Sequence[Any], limit: int | None = None
    ) -> list[StoredItem]:
        sql = f"{_SELECT_ITEMS} {where} ORDER BY i.id"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)

        def read(conn: sqlite3.Connection) -> list[StoredItem]:
            rows = conn.execute(sql, args).fetchall()
            parts = _load_parts(conn, [row[0] for row in rows if row[1] == "deliver"])
            return [_item_from_row(row, parts.get(row[0], ())) for row in rows]

        return await self._run(read)


def _load_parts(conn: sqlite3.Connection, item_ids: list[int]) -> dict[int, tuple[Part, ...]]:
    found: dict[int, list[Part]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT item_id, content_type, filename, content_id, charset, headers, text, data "
            f"FROM parts WHERE item_id IN ({marks}) ORDER BY item_id, idx",
            chunk,
        ).fetchall()
        for item_id, ctype, filename, cid, charset, headers, text, data in rows:
            found.setdefault(item_id, []).append(
                Part(
                    ctype,
                    data=bytes(data),
                    text=text,
                    filename=filename,
                    content_id=cid,
                    charset=charset,
                    headers=json.loads(headers),
                )
            )
    return {item_id: tuple(parts) for item_id, parts in found.items()}


def _submit_from_row(row: Sequence[Any]) -> SubmitRecord:
    message_id, tid, recipients, vas_id, subject, normalized, recorded_at = row
    recorded = _parse_iso(recorded_at)
    assert recorded is not None
    return SubmitRecord(
        message_id=message_id,
        transaction_id=tid,
        recipients=tuple(json.loads(recipients or "[]")),
        vas_id=vas_id,
        subject=subject,
        normalized=_normalized_from_json(normalized),
        recorded_at=recorded,
    )


def _item_from_row(row: Sequence[Any], parts: tuple[Part, ...]) -> StoredItem:
    received = _parse_iso(row[13])
    assert received is not None
    handled_at = _parse_iso(row[14])
    submit = _submit_from_row(row[16:23]) if row[16] is not None else None
    return StoredItem(
        id=int(row[0]),
        kind=row[1],
        message_id=row[2],
        transaction_id=row[3],
        recipient=row[4],
        recipients=tuple(json.loads(row[5] or "[]")),
        sender=row[6],
        mm_status=row[7],
        status_text=row[8],
        normalized=_normalized_from_json(row[9]),
        subject=row[10],
        linked_id=row[11],
        timestamp=_parse_iso(row[12]),
        received_at=received,
        handled=handled_at is not None,
        handled_at=handled_at,
        duplicates=int(row[15]),
        submit=submit,
        parts=parts,
    )
