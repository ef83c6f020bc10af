"""The receiver's store interface: :class:`ReceiverStore`, what it stores, shared helpers.

The receiver acknowledges a DeliveryReportReq, DeliverReq or ReadReplyReq only after
:meth:`ReceiverStore.add` has returned, so a store must make the item durable *before* ``add``
returns. Consumers read unhandled items with :meth:`ReceiverStore.pending` or
:meth:`ReceiverStore.iter_pending` and call :meth:`ReceiverStore.mark_handled` when they are done
with one; a consumer that crashes before that sees the item again. Several consumers share one
store with ``iter_pending(claim=True)``: each item is claimed by one of them for a lease, and
comes back to the others when the lease ends before it is marked handled.

The implementations live in :mod:`mm7client.receiver.stores`: sqlite (the embedded default)
and PostgreSQL (shared by several receivers and consumers);
:func:`~mm7client.receiver.stores.open_store` picks one from a URL. Both keep the normalized
result in the platform's own columns (``provider``, ``msgType``, ``resultType``,
``originResult``, ``convertResult``, ``resultMessage``, see :data:`RESULT_COLUMNS`) and carry a
schema version, migrated by ``mm7 db upgrade --store URL``.

Plugging another database: implement the :class:`ReceiverStore` protocol. The pure helpers
:func:`dedup_key` and :func:`normalize_item` give the same duplicate key and normalized result
the shipped stores use.

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
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from mm7client.codec import decode
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
    "RESULT_COLUMNS",
    "SCHEMA_VERSION",
    "AddResult",
    "IncomingMessage",
    "ItemKind",
    "ReceiverStore",
    "StoreVersionError",
    "StoredItem",
    "SubmitOutcome",
    "SubmitRecord",
    "dedup_key",
    "default_consumer_name",
    "kind_of",
    "normalize_item",
]

log = logging.getLogger(__name__)

#: What the receiver stores: ``"delivery_report"``, ``"deliver"`` (MO message) or ``"read_reply"``.
ItemKind = Literal["delivery_report", "deliver", "read_reply"]

#: The three requests an MMSC sends to a VASP.
IncomingMessage = DeliveryReportRequest | DeliverRequest | ReadReplyRequest

#: The schema version this code reads and writes. 1 was the first sqlite layout (results as a
#: JSON blob); 2 keeps results in the platform's columns and adds consumer claims; 3 keeps the
#: TimeStamp's text whenever it is not ISO 8601 (``timestamp_raw``).
SCHEMA_VERSION = 3

#: The result columns of both tables, in the platform's names, and the
#: :class:`~mm7client.codes.NormalizedResult` field each holds.
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("provider", "provider"),
    ("msgType", "msg_type"),
    ("resultType", "result_type"),
    ("originResult", "origin_result"),
    ("convertResult", "convert_result"),
    ("resultMessage", "result_message"),
    ("explanation", "explanation"),
    ("category", "category"),
    ("pause_seconds", "pause_seconds"),
    ("known", "known"),
    ("matched_origin", "matched_origin"),
)


class StoreVersionError(RuntimeError):
    """The store's schema is not the version this code uses; says which command fixes it."""

    def __init__(self, store: str, found: int, message: str) -> None:
        self.store = store
        self.found = found
        super().__init__(message)

    @classmethod
    def check(cls, store: str, found: int, *, created_on_open: bool = False) -> None:
        """Raise unless ``found`` is :data:`SCHEMA_VERSION` (0 means no schema yet)."""
        if found == SCHEMA_VERSION or (found == 0 and created_on_open):
            return
        if found > SCHEMA_VERSION:
            raise cls(
                store,
                found,
                f"store {store} has schema version {found}, newer than this mm7client's "
                f"{SCHEMA_VERSION}: upgrade mm7client",
            )
        what = "has no mm7 schema" if found == 0 else f"has schema version {found}"
        raise cls(
            store,
            found,
            f"store {store} {what}; this mm7client needs version {SCHEMA_VERSION}: "
            f"run `mm7 db upgrade --store {store}`",
        )


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
        attempts: HTTP requests the client made for it (``None`` when not known).
    """

    message_id: str
    transaction_id: str | None
    recipients: tuple[str, ...]
    vas_id: str | None
    subject: str | None
    normalized: NormalizedResult | None
    recorded_at: datetime
    attempts: int | None = None


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
        timestamp: the TimeStamp the MMSC wrote, if any and readable (ISO 8601, or the Java
            ``Date.toString()`` form ``Wed Dec 02 05:40:59 UTC 2026``).
        timestamp_raw: the TimeStamp's text whenever it is not ISO 8601, read or not (so an
            unreadable one is kept, never silently ``None``: ``timestamp`` is then ``None``).
        parts: the content parts of an MO message.
        duplicates: how many times the same item arrived again (and was acknowledged again).
        handled_at: when it was marked handled (UTC), else ``None``.
        last_seen_at: when it last arrived (UTC), else ``None``.
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
    timestamp_raw: str | None = None
    parts: tuple[Part, ...] = field(default=(), repr=False)
    duplicates: int = 0
    handled_at: datetime | None = None
    last_seen_at: datetime | None = None

    @property
    def attempts(self) -> int:
        """How many times the item arrived (1 + :attr:`duplicates`)."""
        return 1 + self.duplicates


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
      ``iter_pending(claim=True)`` claims each item for ``lease`` seconds before yielding it, so
      several consumers (processes, machines) never get the same item while its lease runs;
      one that dies releases its claims when their lease ends.
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
        claim: bool = False,
        lease: float = 60.0,
        consumer: str | None = None,
    ) -> AsyncIterator[StoredItem]:
        """Yield each pending item once, then wait for new ones (until ``stop_when_empty``).

        With ``claim`` each item is first claimed by ``consumer`` for ``lease`` seconds (items
        claimed by another consumer whose lease runs are skipped).
        """
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


def timestamp_from_raw_body(
    raw_body: bytes | None, content_type: str | None
) -> tuple[datetime | None, str | None]:
    """The TimeStamp (date-time, raw text) of a stored raw body, read again by the codec.

    For migrations: a store written before ``timestamp_raw`` existed kept an unreadable
    TimeStamp as NULL, but its raw body still holds the text. ``(None, None)`` when the body is
    empty, unreadable, or has no TimeStamp.
    """
    if not raw_body:
        return None, None
    try:
        message = decode(bytes(raw_body), content_type, resolve_content=False)
    except ValueError:  # a ParseError, or any body the codec cannot read: nothing to recover
        return None, None
    return getattr(message, "timestamp", None), getattr(message, "timestamp_raw", None)


def utc_now() -> datetime:
    """The current time in UTC (what stores write as times)."""
    return datetime.now(UTC)


def default_consumer_name() -> str:
    """A consumer name unique to this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------------------------------------
# Rows: one layout for every store, in Python values (each store converts to its column types)

#: Columns of the items table every store selects, in this order (see :func:`item_from_row`).
ITEM_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "message_id",
    "transaction_id",
    "recipient",
    "recipients",
    "sender",
    "mm_status",
    "status_text",
    "subject",
    "linked_id",
    "timestamp",
    "timestamp_raw",
    "received_at",
    "last_seen_at",
    "handled_at",
    "attempts",
    *(column for column, _ in RESULT_COLUMNS),
)

#: Columns of the submits table every store selects, in this order (see :func:`submit_from_row`).
SUBMIT_COLUMNS: tuple[str, ...] = (
    "message_id",
    "transaction_id",
    "recipients",
    "vas_id",
    "subject",
    "status_text",
    "attempts",
    "recorded_at",
    *(column for column, _ in RESULT_COLUMNS),
)


def result_values(result: NormalizedResult | None) -> dict[str, Any]:
    """The result columns of ``result`` (every one ``None`` without a result)."""
    if result is None:
        return {column: None for column, _ in RESULT_COLUMNS}
    values = {column: getattr(result, name) for column, name in RESULT_COLUMNS}
    values["category"] = str(result.category)
    return values


def result_from_row(row: Mapping[str, Any], status_text: str | None) -> NormalizedResult | None:
    """The :class:`NormalizedResult` kept in a row's result columns (``None`` when empty)."""
    if row["provider"] is None:
        return None
    data = {name: row[column] for column, name in RESULT_COLUMNS}
    data["category"] = Category(data["category"] or "unknown")
    data["known"] = bool(data["known"])
    data["matched_origin"] = data["matched_origin"] or ""
    return NormalizedResult(status_text=status_text, **data)


def item_values(
    message: IncomingMessage,
    *,
    code_table: CodeTable | None,
    raw_body: bytes | None,
    content_type: str | None,
) -> dict[str, Any]:
    """The column values of a new item arriving now (recipients as a list, times as
    datetimes): its :func:`dedup_key`, its result normalized with ``code_table``."""
    now = utc_now()
    values: dict[str, Any] = {
        "kind": kind_of(message),
        "dedup_key": dedup_key(message),
        "transaction_id": message.transaction_id,
        "sender": _address(message.sender),
        "timestamp": message.timestamp,
        "timestamp_raw": message.timestamp_raw,
        "received_at": now,
        "last_seen_at": now,
        "attempts": 1,
        "content_type": content_type,
        "raw_body": raw_body,
    }
    if isinstance(message, DeliverRequest):
        recipients = [a.value for a in (*message.to, *message.cc, *message.bcc)]
        values.update(
            message_id=None,
            recipient=recipients[0] if recipients else None,
            recipients=recipients,
            mm_status=None,
            status_text=None,
            subject=message.subject,
            linked_id=message.linked_id,
        )
    else:
        values.update(
            message_id=message.message_id,
            recipient=message.recipient.value,
            recipients=[message.recipient.value],
            mm_status=message.mm_status,
            status_text=message.status_text,
            subject=None,
            linked_id=None,
        )
    values.update(result_values(normalize_item(message, code_table)))
    return values


def item_from_row(
    row: Mapping[str, Any], parts: tuple[Part, ...] = (), submit: SubmitRecord | None = None
) -> StoredItem:
    """A :class:`StoredItem` from a row of :data:`ITEM_COLUMNS` (in Python values)."""
    return StoredItem(
        id=int(row["id"]),
        kind=row["kind"],
        message_id=row["message_id"],
        transaction_id=row["transaction_id"],
        recipient=row["recipient"],
        recipients=tuple(row["recipients"] or ()),
        sender=row["sender"],
        mm_status=row["mm_status"],
        status_text=row["status_text"],
        normalized=result_from_row(row, row["status_text"]),
        subject=row["subject"],
        linked_id=row["linked_id"],
        timestamp=row["timestamp"],
        timestamp_raw=row["timestamp_raw"],
        received_at=row["received_at"],
        last_seen_at=row["last_seen_at"],
        handled=row["handled_at"] is not None,
        handled_at=row["handled_at"],
        duplicates=int(row["attempts"]) - 1,
        submit=submit,
        parts=parts,
    )


def submit_values(
    request: SubmitRequest, result: SubmitOutcome, now: datetime
) -> dict[str, Any] | None:
    """The column values recording a submit, or ``None`` when it is not recorded.

    Only SubmitReqs with a MessageID are recorded (failed submits, CancelReq and ReplaceReq
    results are not).
    """
    message_id = getattr(result, "message_id", None)
    if not isinstance(request, SubmitRequest) or not message_id:
        log.debug("not recorded for correlation: %s without MessageID", type(request).__name__)
        return None
    normalized = getattr(result, "normalized", None)
    if not isinstance(normalized, NormalizedResult):
        normalized = None
    attempts = getattr(result, "attempts", None)
    return {
        "message_id": str(message_id),
        "transaction_id": getattr(result, "transaction_id", None) or request.transaction_id,
        "recipients": [a.value for a in request.recipients],
        "vas_id": getattr(result, "vas_id", None) or request.vas_id,
        "subject": request.subject,
        "status_text": normalized.status_text if normalized else None,
        "attempts": attempts if isinstance(attempts, int) else None,
        "recorded_at": now,
        **result_values(normalized),
    }


def submit_from_row(row: Mapping[str, Any]) -> SubmitRecord:
    """A :class:`SubmitRecord` from a row of :data:`SUBMIT_COLUMNS` (in Python values)."""
    return SubmitRecord(
        message_id=row["message_id"],
        transaction_id=row["transaction_id"],
        recipients=tuple(row["recipients"] or ()),
        vas_id=row["vas_id"],
        subject=row["subject"],
        normalized=result_from_row(row, row["status_text"]),
        recorded_at=row["recorded_at"],
        attempts=row["attempts"],
    )


def item_id_of(item: int | StoredItem) -> int:
    """The id of ``item`` (a :class:`StoredItem` or an id)."""
    return item.id if isinstance(item, StoredItem) else int(item)


#: Columns of the parts table (an MO message's content), in this order (see :func:`part_values`).
PART_COLUMNS: tuple[str, ...] = (
    "item_id",
    "idx",
    "content_type",
    "filename",
    "content_id",
    "charset",
    "headers",
    "text",
    "data",
)


def part_values(item_id: int, index: int, part: Part) -> dict[str, Any]:
    """The column values of an MO message's content part (headers as a dict)."""
    return {
        "item_id": item_id,
        "idx": index,
        "content_type": part.content_type,
        "filename": part.filename,
        "content_id": part.content_id,
        "charset": part.charset,
        "headers": dict(part.headers),
        "text": part.text,
        "data": part.data,
    }


def parts_by_item(rows: Iterable[Mapping[str, Any]]) -> dict[int, tuple[Part, ...]]:
    """Each item's content parts from rows of :data:`PART_COLUMNS` (in Python values), in
    row order."""
    found: dict[int, list[Part]] = {}
    for row in rows:
        found.setdefault(row["item_id"], []).append(
            Part(
                row["content_type"],
                data=bytes(row["data"]),
                text=row["text"],
                filename=row["filename"],
                content_id=row["content_id"],
                charset=row["charset"],
                headers=row["headers"],
            )
        )
    return {item_id: tuple(parts) for item_id, parts in found.items()}


def items_filter(
    mark: str,
    *,
    kind: ItemKind | None = None,
    message_id: str | None = None,
    handled: bool | None = None,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (empty without a filter) and its parameters of a store's
    ``items()``; ``mark`` is the driver's parameter placeholder (``?`` or ``%s``)."""
    clauses: list[str] = []
    params: list[Any] = []
    if kind is not None:
        clauses.append(f"kind = {mark}")
        params.append(kind)
    if message_id is not None:
        clauses.append(f"message_id = {mark}")
        params.append(message_id)
    if handled is not None:
        clauses.append("handled_at IS NOT NULL" if handled else "handled_at IS NULL")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


class PendingWaiters:
    """The ``iter_pending`` iterators of one store that wait for new items.

    A store calls :meth:`wake` when it stores a new item and when it closes; an iterator gets
    its batches from :meth:`batches`, which waits between empty fetches.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def wake(self) -> None:
        """Wake every waiting iterator (they fetch again at once)."""
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(None)

    async def batches(
        self,
        fetch: Callable[[], Awaitable[list[StoredItem]]],
        *,
        closed: Callable[[], bool],
        poll_interval: float,
        stop_when_empty: bool,
        idle: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[list[StoredItem]]:
        """Each non-empty batch ``fetch`` returns, until ``closed()`` (or the first empty one
        with ``stop_when_empty``); after an empty one, ``idle`` runs and the iterator waits
        ``poll_interval`` seconds or until :meth:`wake`. A wake during a fetch is not lost."""
        loop = asyncio.get_running_loop()
        while not closed():
            wake: asyncio.Future[None] = loop.create_future()
            self._waiters.add(wake)
            try:
                batch = await fetch()
                if not batch:
                    if stop_when_empty:
                        return
                    if idle is not None:
                        await idle()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(wake), poll_interval)
                    continue
            finally:
                self._waiters.discard(wake)
            yield batch
