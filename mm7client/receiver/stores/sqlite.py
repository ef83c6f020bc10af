"""The embedded store: :class:`SqliteStore`, one sqlite file in WAL mode (nothing to install).

Tables (schema version :data:`~mm7client.receiver.store.SCHEMA_VERSION`): ``items`` (one row per
report, MO message or read reply, the normalized result in the platform's columns ``provider``,
``msgType``, ``resultType``, ``originResult``, ``convertResult``, ``resultMessage``...),
``parts`` (MO content), ``submits`` (the client's submit records) and ``mm7_schema`` (the
version). A file written by the first layout (version 1, results as a JSON blob) is refused
until ``mm7 db upgrade --store FILE`` has moved every result into the columns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from mm7client.codes import Category, CodeTable
from mm7client.model import DeliverRequest, Part, SubmitRequest
from mm7client.receiver.store import (
    ITEM_COLUMNS,
    PART_COLUMNS,
    RESULT_COLUMNS,
    SCHEMA_VERSION,
    SUBMIT_COLUMNS,
    AddResult,
    IncomingMessage,
    ItemKind,
    PendingWaiters,
    StoredItem,
    StoreVersionError,
    SubmitOutcome,
    SubmitRecord,
    default_consumer_name,
    item_from_row,
    item_id_of,
    item_values,
    items_filter,
    part_values,
    parts_by_item,
    submit_from_row,
    submit_values,
    timestamp_from_raw_body,
    utc_now,
)

__all__ = ["SqliteStore", "upgrade_sqlite"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_RESULT_DDL = """
    provider       TEXT,
    msgType        INTEGER,
    resultType     INTEGER,
    originResult   TEXT,
    convertResult  INTEGER,
    resultMessage  TEXT,
    explanation    TEXT,
    category       TEXT,
    pause_seconds  REAL,
    known          INTEGER,
    matched_origin TEXT"""

_SCHEMA = f"""
CREATE TABLE mm7_schema (
    version     INTEGER NOT NULL,
    upgraded_at TEXT NOT NULL
);
CREATE TABLE items (
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
    subject        TEXT,
    linked_id      TEXT,
    timestamp      TEXT,
    timestamp_raw  TEXT,{_RESULT_DDL},
    attempts       INTEGER NOT NULL DEFAULT 1,
    received_at    TEXT NOT NULL,
    last_seen_at   TEXT,
    handled_at     TEXT,
    claimed_by     TEXT,
    claimed_until  TEXT,
    content_type   TEXT,
    raw_body       BLOB
);
CREATE INDEX items_pending ON items(id) WHERE handled_at IS NULL;
CREATE INDEX items_message_id ON items(message_id);
CREATE TABLE parts (
    item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    filename     TEXT,
    content_id   TEXT,
    charset      TEXT,
    headers      TEXT NOT NULL DEFAULT '{{}}',
    text         TEXT,
    data         BLOB NOT NULL,
    PRIMARY KEY (item_id, idx)
);
CREATE TABLE submits (
    message_id     TEXT PRIMARY KEY,
    transaction_id TEXT,
    recipients     TEXT NOT NULL DEFAULT '[]',
    vas_id         TEXT,
    subject        TEXT,
    status_text    TEXT,
    attempts       INTEGER,
    recorded_at    TEXT NOT NULL,{_RESULT_DDL}
);
"""

_SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")
_TIME_COLUMNS = frozenset(
    {"timestamp", "received_at", "last_seen_at", "handled_at", "claimed_until", "recorded_at"}
)
_SELECT_ITEMS = f"SELECT {', '.join(ITEM_COLUMNS)} FROM items"
_SELECT_SUBMITS = f"SELECT {', '.join(SUBMIT_COLUMNS)} FROM submits"


def _time(value: datetime | None) -> str | None:
    """Times as fixed-width UTC text, so that text order is time order."""
    if value is None:
        return None
    if value.utcoffset() == timedelta(0):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return value.isoformat()


def _to_sqlite(column: str, value: Any) -> Any:
    if column in _TIME_COLUMNS:
        return _time(value)
    if column == "recipients":
        return json.dumps(list(value), ensure_ascii=False)
    if column == "headers":
        return json.dumps(dict(value), ensure_ascii=False)
    return value


def _from_sqlite(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    values = dict(zip(columns, row, strict=True))
    for column in _TIME_COLUMNS.intersection(values):
        text = values[column]
        values[column] = None if text is None else datetime.fromisoformat(text)
    if "recipients" in values:
        values["recipients"] = json.loads(values["recipients"] or "[]")
    if "headers" in values:
        values["headers"] = json.loads(values["headers"])
    return values


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version of an open sqlite database (0: empty, 1: the first layout)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "mm7_schema" in tables:
        row = conn.execute("SELECT max(version) FROM mm7_schema").fetchone()
        return int(row[0] or 0)
    return 1 if "items" in tables else 0


def _create(conn: sqlite3.Connection) -> None:
    # statement by statement: executescript() would commit the caller's transaction
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    _set_version(conn, SCHEMA_VERSION)


def _results_from_json(text: str | None) -> tuple[Any, ...]:
    """The result columns from the first layout's JSON blob (all ``None`` without one)."""
    data = json.loads(text) if text else {}
    if not data:
        return tuple(None for _ in RESULT_COLUMNS)
    data["category"] = str(Category(data.get("category") or "unknown"))
    return tuple(data.get(name) for _, name in RESULT_COLUMNS)


def _upgrade_1_to_2(conn: sqlite3.Connection) -> None:
    """Results from the JSON blob into the platform's columns; attempts; consumer claims."""
    result_ddl = [line.strip().rstrip(",") for line in _RESULT_DDL.strip().splitlines()]
    item_ddl = ["attempts INTEGER NOT NULL DEFAULT 1", "claimed_by TEXT", "claimed_until TEXT"]
    for ddl in [*result_ddl, *item_ddl]:
        conn.execute(f"ALTER TABLE items ADD COLUMN {ddl}")
    for ddl in [*result_ddl, "status_text TEXT", "attempts INTEGER"]:
        conn.execute(f"ALTER TABLE submits ADD COLUMN {ddl}")
    assignments = ", ".join(f"{column} = ?" for column, _ in RESULT_COLUMNS)
    for table, key in (("items", "id"), ("submits", "message_id")):
        rows = conn.execute(f"SELECT {key}, normalized FROM {table}").fetchall()
        conn.executemany(
            f"UPDATE {table} SET {assignments} WHERE {key} = ?",
            [(*_results_from_json(normalized), row_key) for row_key, normalized in rows],
        )
    conn.execute(
        "UPDATE submits SET status_text = json_extract(normalized, '$.status_text') "
        "WHERE normalized IS NOT NULL"
    )
    conn.execute(
        "UPDATE items SET attempts = duplicates + 1, "
        "last_seen_at = coalesce(last_seen_at, received_at)"
    )
    conn.execute("ALTER TABLE items DROP COLUMN normalized")
    conn.execute("ALTER TABLE items DROP COLUMN duplicates")
    conn.execute("ALTER TABLE submits DROP COLUMN normalized")
    conn.execute("CREATE TABLE mm7_schema (version INTEGER NOT NULL, upgraded_at TEXT NOT NULL)")
    _set_version(conn, 2)


def _upgrade_2_to_3(conn: sqlite3.Connection) -> None:
    """The TimeStamp's text when it is not ISO 8601 (``timestamp_raw``), recovered from the raw
    body of the items stored without a readable TimeStamp (a Java date is read now too)."""
    conn.execute("ALTER TABLE items ADD COLUMN timestamp_raw TEXT")
    updates = []
    for item_id, raw_body, content_type in conn.execute(
        "SELECT id, raw_body, content_type FROM items WHERE timestamp IS NULL AND length(raw_body)"
    ):
        timestamp, raw = timestamp_from_raw_body(raw_body, content_type)
        if timestamp is not None or raw is not None:
            updates.append((_time(timestamp), raw, item_id))
    conn.executemany("UPDATE items SET timestamp = ?, timestamp_raw = ? WHERE id = ?", updates)
    log.info("%d items got their TimeStamp back from the raw body", len(updates))
    _set_version(conn, 3)


def _set_version(conn: sqlite3.Connection, version: int) -> None:
    conn.execute(
        "INSERT INTO mm7_schema (version, upgraded_at) VALUES (?, ?)", (version, _time(utc_now()))
    )


#: Upgrade steps: from version N to N + 1.
_UPGRADES: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
}


def upgrade_sqlite(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Create or migrate the sqlite store at ``path``; returns (version before, version after).

    Each run is one transaction: a failure leaves the file as it was.
    """
    conn = sqlite3.connect(os.fspath(path), isolation_level=None, timeout=30.0)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = version = schema_version(conn)
            if version > SCHEMA_VERSION:
                StoreVersionError.check(os.fspath(path), version)
            if version == 0:
                _create(conn)
                version = SCHEMA_VERSION
            while version < SCHEMA_VERSION:
                log.info("upgrading %s from schema version %d", path, version)
                _UPGRADES[version](conn)
                version += 1
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return before, version
    finally:
        conn.close()


class SqliteStore:
    """The embedded store: one sqlite file in WAL mode.

    Durability guarantee: with the default ``synchronous="FULL"`` every item is in the
    write-ahead log *and fsynced* before :meth:`add` returns, so an acknowledged item survives a
    crash of the process and of the machine (power loss). ``synchronous="NORMAL"`` skips the
    per-commit fsync: acknowledged items still survive a crash of the process (SIGKILL), but the
    last ones may be lost on power loss. ``":memory:"`` keeps nothing (tests).

    A new file gets the current schema when first opened; a file at an older schema version
    raises :class:`~mm7client.receiver.store.StoreVersionError` naming ``mm7 db upgrade``.

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
        self._waiters = PendingWaiters()

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
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("BEGIN IMMEDIATE")
                version = schema_version(conn)
                if version == 0:
                    _create(conn)
                conn.execute("COMMIT")
                StoreVersionError.check(self.path, version, created_on_open=True)
            except BaseException:
                conn.close()
                raise
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
        self._waiters.wake()

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
        values = item_values(
            message,
            code_table=self.code_table,
            raw_body=raw_body if self.keep_raw else None,
            content_type=content_type,
        )

        def write(conn: sqlite3.Connection) -> tuple[int, bool]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                item_id, created = self._insert(conn, message, values)
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
            self._waiters.wake()
        return AddResult(item, created)

    @staticmethod
    def _insert(
        conn: sqlite3.Connection, message: IncomingMessage, values: dict[str, Any]
    ) -> tuple[int, bool]:
        row = conn.execute(
            "SELECT id FROM items WHERE dedup_key = ?", (values["dedup_key"],)
        ).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE items SET attempts = attempts + 1, last_seen_at = ? WHERE id = ?",
                (_time(values["received_at"]), row[0]),
            )
            return int(row[0]), False
        columns = list(values)
        cursor = conn.execute(
            f"INSERT INTO items ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [_to_sqlite(column, values[column]) for column in columns],
        )
        item_id = cursor.lastrowid
        assert item_id is not None
        if isinstance(message, DeliverRequest):
            conn.executemany(
                f"INSERT INTO parts ({', '.join(PART_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(PART_COLUMNS))})",
                [
                    [_to_sqlite(column, value) for column, value in values.items()]
                    for values in (
                        part_values(item_id, index, part)
                        for index, part in enumerate(message.content)
                    )
                ],
            )
        return item_id, True

    async def mark_handled(self, item: int | StoredItem) -> bool:
        """Mark an item handled (committed before returning); releases its claim.

        Returns False when it was already handled or does not exist.
        """
        item_id = item_id_of(item)
        now = _time(utc_now())

        def write(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE items SET handled_at = ?, claimed_until = NULL "
                "WHERE id = ? AND handled_at IS NULL",
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
        values = submit_values(request, result, utc_now())
        if values is None:
            return
        columns = list(values)
        sql = (
            f"INSERT OR REPLACE INTO submits ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        params = [_to_sqlite(column, values[column]) for column in columns]
        await self._run(lambda conn: conn.execute(sql, params))

    async def claim(
        self, consumer: str, *, kind: ItemKind | None = None, limit: int = 10, lease: float = 60.0
    ) -> list[StoredItem]:
        """Claim up to ``limit`` pending items nobody holds, for ``lease`` seconds, oldest first.

        A claim ends when the item is marked handled or when its lease runs out.
        """
        now = utc_now()
        kind_clause = "AND kind = ?" if kind is not None else ""
        params: list[Any] = [_time(now)] + ([kind] if kind is not None else []) + [limit]

        def write(conn: sqlite3.Connection) -> list[int]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM items WHERE handled_at IS NULL "
                        f"AND (claimed_until IS NULL OR claimed_until < ?) {kind_clause} "
                        "ORDER BY id LIMIT ?",
                        params,
                    )
                ]
                conn.executemany(
                    "UPDATE items SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                    [(consumer, _time(now + timedelta(seconds=lease)), i) for i in ids],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return ids

        ids = await self._run(write)
        if not ids:
            return []
        return await self._select(f"WHERE id IN ({', '.join('?' * len(ids))})", ids)

    # -- reading -------------------------------------------------------------------------------

    async def get(self, item_id: int) -> StoredItem | None:
        """One item by id, handled or not."""
        found = await self._select("WHERE id = ?", (item_id,))
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
        where, params = items_filter("?", kind=kind, message_id=message_id, handled=handled)
        return await self._select(where, params, limit)

    async def find_submit(self, message_id: str) -> SubmitRecord | None:
        """The submit recorded for ``message_id``, if any."""
        found = await self._run(lambda conn: _load_submits(conn, [message_id]))
        return found.get(message_id)

    async def iter_pending(
        self,
        *,
        kind: ItemKind | None = None,
        poll_interval: float = 1.0,
        stop_when_empty: bool = False,
        claim: bool = False,
        lease: float = 60.0,
        consumer: str | None = None,
    ) -> AsyncIterator[StoredItem]:
        """Yield every pending item once, oldest first, then each new one as it is stored.

        An item stays pending until :meth:`mark_handled`; a new iterator (e.g. after a restart)
        yields the unhandled ones again. Items written by another process are seen within
        ``poll_interval`` seconds; ``stop_when_empty`` ends the iteration when nothing is
        pending. With ``claim``, each item is claimed for ``consumer`` (default: a name unique
        to this iterator) for ``lease`` seconds before it is yielded (see :meth:`claim`).
        """
        name = consumer or default_consumer_name()
        last_id = 0

        async def fetch() -> list[StoredItem]:
            if claim:
                return await self.claim(name, kind=kind, lease=lease)
            return await self._pending_after(last_id, kind, 100)

        batches = self._waiters.batches(
            fetch,
            closed=lambda: self._closed,
            poll_interval=poll_interval,
            stop_when_empty=stop_when_empty,
        )
        async for batch in batches:
            for item in batch:
                last_id = item.id
                yield item

    async def _pending_after(
        self, after_id: int, kind: ItemKind | None, limit: int | None
    ) -> list[StoredItem]:
        where = "WHERE handled_at IS NULL AND id > ?"
        params: list[Any] = [after_id]
        if kind is not None:
            where += " AND kind = ?"
            params.append(kind)
        return await self._select(where, params, limit)

    async def _select(
        self, where: str, params: Sequence[Any], limit: int | None = None
    ) -> list[StoredItem]:
        sql = f"{_SELECT_ITEMS} {where} ORDER BY id"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)

        def read(conn: sqlite3.Connection) -> list[StoredItem]:
            rows = [_from_sqlite(ITEM_COLUMNS, row) for row in conn.execute(sql, args)]
            parts = _load_parts(conn, [row["id"] for row in rows if row["kind"] == "deliver"])
            submits = _load_submits(conn, {row["message_id"] for row in rows} - {None})
            return [
                item_from_row(row, parts.get(row["id"], ()), submits.get(row["message_id"]))
                for row in rows
            ]

        return await self._run(read)


def _chunks(values: Iterable[_T], size: int = 500) -> Iterable[list[_T]]:
    chunk: list[_T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load_submits(conn: sqlite3.Connection, message_ids: Iterable[str]) -> dict[str, SubmitRecord]:
    found: dict[str, SubmitRecord] = {}
    for chunk in _chunks(message_ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"{_SELECT_SUBMITS} WHERE message_id IN ({marks})", chunk):
            record = submit_from_row(_from_sqlite(SUBMIT_COLUMNS, row))
            found[record.message_id] = record
    return found


def _load_parts(conn: sqlite3.Connection, item_ids: list[int]) -> dict[int, tuple[Part, ...]]:
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(item_ids):
        marks = ",".join("?" * len(chunk))
        rows += (
            _from_sqlite(PART_COLUMNS, row)
            for row in conn.execute(
                f"SELECT {', '.join(PART_COLUMNS)} FROM parts "
                f"WHERE item_id IN ({marks}) ORDER BY item_id, idx",
                chunk,
            )
        )
    return parts_by_item(rows)
