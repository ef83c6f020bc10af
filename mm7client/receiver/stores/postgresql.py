"""The shared store: :class:`PostgresStore`, for several receivers and consumers on one database.

Built on psycopg 3 (typed, one package for the asynchronous receiver and the synchronous
``mm7 db`` command, libpq's URLs and environment such as ``PGPASSWORD`` and ``sslmode``) with
its connection pool, which replaces broken connections by itself.

* **Duplicates** are recognised by the database: ``items.dedup_key`` is unique and a resent
  report becomes ``attempts = attempts + 1`` on the stored row (``INSERT ... ON CONFLICT``), so
  a report posted to any receiver is stored once.
* **Commit before acknowledge, in groups**: concurrent :meth:`PostgresStore.add` calls are
  written by a writer task (or a few) taking every report waiting at that moment into one
  statement, hence one transaction (group commit); each call returns only after that commit.
  A group the database cannot take fails every call in it (the receiver answers them a
  retryable fault); one it refuses for its data is written again report by report.
* **Consumers** claim items with ``FOR UPDATE SKIP LOCKED`` for a lease timed by the database's
  clock; a consumer that dies releases its items when the lease ends.
* **Unreachable database**: a call waits at most ``acquire_timeout`` seconds for a connection,
  then fails (the receiver answers 3000 and the MMSC resends); the pool reconnects by itself.

The schema is made and migrated only by ``mm7 db upgrade --store URL`` (:func:`upgrade_postgres`);
opening a database at another version raises :class:`~mm7client.receiver.store.StoreVersionError`.
Tables have the sqlite store's names (``items``, ``parts``, ``submits``, ``mm7_schema``): give
the store its own database or schema (``?options=-csearch_path%3Dmm7``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from mm7client.codes import CodeTable
from mm7client.model import DeliverRequest, Part, SubmitRequest
from mm7client.receiver.store import (
    ITEM_COLUMNS,
    PART_COLUMNS,
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

__all__ = ["PostgresStore", "redacted_url", "schema_version", "upgrade_postgres"]

log = logging.getLogger(__name__)

_RESULT_DDL = """
    provider       text,
    msgType        integer,
    resultType     integer,
    originResult   text,
    convertResult  integer,
    resultMessage  text,
    explanation    text,
    category       text,
    pause_seconds  double precision,
    known          boolean,
    matched_origin text"""

_SCHEMA = f"""
CREATE TABLE mm7_schema (
    version     integer NOT NULL,
    upgraded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE items (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL,
    dedup_key      text NOT NULL UNIQUE,
    message_id     text,
    transaction_id text,
    recipient      text,
    recipients     text[] NOT NULL DEFAULT '{{}}',
    sender         text,
    mm_status      text,
    status_text    text,
    subject        text,
    linked_id      text,
    timestamp      timestamptz,
    timestamp_raw  text,{_RESULT_DDL},
    attempts       integer NOT NULL DEFAULT 1,
    received_at    timestamptz NOT NULL,
    last_seen_at   timestamptz,
    handled_at     timestamptz,
    claimed_by     text,
    claimed_until  timestamptz,
    content_type   text,
    raw_body       bytea
);
CREATE INDEX items_pending ON items (id) WHERE handled_at IS NULL;
CREATE INDEX items_message_id ON items (message_id);
CREATE TABLE parts (
    item_id      bigint NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    idx          integer NOT NULL,
    content_type text NOT NULL,
    filename     text,
    content_id   text,
    charset      text,
    headers      jsonb NOT NULL DEFAULT '{{}}',
    text         text,
    data         bytea NOT NULL,
    PRIMARY KEY (item_id, idx)
);
CREATE TABLE submits (
    message_id     text PRIMARY KEY,
    transaction_id text,
    recipients     text[] NOT NULL DEFAULT '{{}}',
    vas_id         text,
    subject        text,
    status_text    text,
    attempts       integer,
    recorded_at    timestamptz NOT NULL,{_RESULT_DDL}
);
"""

_RETURNING_ITEMS = ", ".join(ITEM_COLUMNS)

#: The columns a new item is written with, and their types in the group's JSON document.
_INSERT_TYPES: dict[str, str] = {
    "kind": "text",
    "dedup_key": "text",
    "message_id": "text",
    "transaction_id": "text",
    "recipient": "text",
    "recipients": "text[]",
    "sender": "text",
    "mm_status": "text",
    "status_text": "text",
    "subject": "text",
    "linked_id": "text",
    "timestamp": "timestamptz",
    "timestamp_raw": "text",
    "provider": "text",
    "msgType": "integer",
    "resultType": "integer",
    "originResult": "text",
    "convertResult": "integer",
    "resultMessage": "text",
    "explanation": "text",
    "category": "text",
    "pause_seconds": "double precision",
    "known": "boolean",
    "matched_origin": "text",
    "attempts": "integer",
    "received_at": "timestamptz",
    "last_seen_at": "timestamptz",
    "content_type": "text",
    "raw_body": "text",  # base64 in the document
}
#: One statement stores a group: insert (or count the duplicate) every row of the JSON
#: document, in dedup_key order, and return each stored row with its correlated submit.
_INSERT_GROUP = (
    "WITH grp AS (SELECT * FROM jsonb_to_recordset(%s) AS g("
    + ", ".join(f"{column} {kind}" for column, kind in _INSERT_TYPES.items())
    + ")), stored AS ("
    + f"INSERT INTO items ({', '.join(_INSERT_TYPES)}) SELECT "
    + ", ".join(
        "decode(raw_body, 'base64')" if column == "raw_body" else column for column in _INSERT_TYPES
    )
    + " FROM grp ORDER BY dedup_key "
    "ON CONFLICT (dedup_key) DO UPDATE SET attempts = items.attempts + EXCLUDED.attempts, "
    f"last_seen_at = EXCLUDED.last_seen_at RETURNING {_RETURNING_ITEMS}, dedup_key) "
    "SELECT "
    + ", ".join(f"stored.{column}" for column in ITEM_COLUMNS)
    + ", "
    + ", ".join(f"submits.{column}" for column in SUBMIT_COLUMNS)
    + ", stored.dedup_key FROM stored LEFT JOIN submits ON submits.message_id = stored.message_id"
)


_JSON_KEYS = tuple((column, column.lower()) for column in _INSERT_TYPES)
_JSON_TIMES = tuple(column for column, kind in _INSERT_TYPES.items() if kind == "timestamptz")


def _json_row(values: dict[str, Any]) -> dict[str, Any]:
    """A new item's values as the group's JSON document carries them (keys in lower case)."""
    row = {key: values[column] for column, key in _JSON_KEYS}
    for column in _JSON_TIMES:
        if row[column] is not None:
            row[column] = row[column].isoformat()
    if row["raw_body"] is not None:
        row["raw_body"] = base64.b64encode(row["raw_body"]).decode("ascii")
    return row


_SELECT_ITEMS = f"SELECT {_RETURNING_ITEMS} FROM items"
_SELECT_SUBMITS = f"SELECT {', '.join(SUBMIT_COLUMNS)} FROM submits"
#: Seconds the pool keeps retrying to open a connection before leaving it to the next call.
_RECONNECT_WINDOW = 8.0
#: Lock taken by every schema change, so that two ``mm7 db upgrade`` runs do not interleave.
_UPGRADE_LOCK = 0x6D6D37  # "mm7"


async def _upgrade_2_to_3(conn: psycopg.AsyncConnection[Any]) -> None:
    """The TimeStamp's text when it is not ISO 8601 (``timestamp_raw``), recovered from the raw
    body of the items stored without a readable TimeStamp (a Java date is read now too)."""
    await conn.execute("ALTER TABLE items ADD COLUMN timestamp_raw text")
    updates = []
    async with conn.cursor(name="mm7_upgrade_timestamps") as cur:  # bodies streamed, not loaded
        await cur.execute(
            "SELECT id, raw_body, content_type FROM items "
            "WHERE timestamp IS NULL AND length(raw_body) > 0"
        )
        async for item_id, raw_body, content_type in cur:
            timestamp, raw = timestamp_from_raw_body(raw_body, content_type)
            if timestamp is not None or raw is not None:
                updates.append((timestamp, raw, item_id))
    async with conn.cursor() as cur:
        await cur.executemany(
            "UPDATE items SET timestamp = %s, timestamp_raw = %s WHERE id = %s", updates
        )
    log.info("%d items got their TimeStamp back from the raw body", len(updates))


#: Upgrade steps: from version N to N + 1 (PostgreSQL stores start at version 2).
_UPGRADES: dict[int, Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]] = {
    2: _upgrade_2_to_3,
}


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """The schema version of the database ``conn`` is on (0: no mm7 schema)."""
    row = await (
        await conn.execute("SELECT to_regclass('mm7_schema') IS NOT NULL, to_regclass('items')")
    ).fetchone()
    assert row is not None
    if not row[0]:
        if row[1] is not None:
            raise StoreVersionError(
                "postgresql", -1, "the database has an `items` table that is not an mm7 store"
            )
        return 0
    found = await (await conn.execute("SELECT max(version) FROM mm7_schema")).fetchone()
    return int(found[0] or 0) if found else 0


async def upgrade_postgres(url: str) -> tuple[int, int]:
    """Create or migrate the schema at ``url``; returns (version before, version after).

    One transaction, under an advisory lock: concurrent runs wait for each other.
    """
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
        before = await schema_version(conn)
        if before > SCHEMA_VERSION:
            StoreVersionError.check(redacted_url(url), before)
        version = before
        if version == 0:
            await conn.execute(_SCHEMA)
            version = SCHEMA_VERSION
            await conn.execute("INSERT INTO mm7_schema (version) VALUES (%s)", (version,))
        while version < SCHEMA_VERSION:
            step = _UPGRADES.get(version)
            if step is None:  # PostgreSQL stores start at version 2
                shown = redacted_url(url)
                raise StoreVersionError(
                    shown, version, f"store {shown} has schema version {version}: no upgrade step"
                )
            log.info("upgrading %s from schema version %d", redacted_url(url), version)
            await step(conn)
            version += 1
            await conn.execute("INSERT INTO mm7_schema (version) VALUES (%s)", (version,))
        return before, version


def redacted_url(url: str) -> str:
    """``url`` without its password, for messages; everything else (the schema in ``options``,
    ``sslmode``) kept, so that a command quoted from a message works on the same store."""
    if "://" not in url:  # libpq's key=value form
        return re.sub(r"(?i)\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)", "password=***", url)
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, hosts = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{userinfo.split(':', 1)[0]}@{hosts}")
    query = "&".join(
        field for field in parts.query.split("&") if not field.lower().startswith("password=")
    )
    return urlunsplit(parts._replace(query=query))


@dataclass(slots=True)
class _Pending:
    """One :meth:`PostgresStore.add` waiting for its group's commit."""

    message: IncomingMessage
    values: dict[str, Any]
    future: asyncio.Future[AddResult]


class PostgresStore:
    """The receiver's store in PostgreSQL (see the module documentation).

    ``async with PostgresStore("postgresql://user@db/mm7") as store: ...``

    Args:
        url: a libpq connection URL (or ``key=value`` string).
        keep_raw: also store the raw HTTP body of each item.
        code_table: the table used to normalize delivery reports (default: the shipped one).
        pool_size: most connections this store opens.
        writers: writer tasks, each committing one group at a time (one writer makes the
            largest groups: every report arriving during a commit joins the next group).
        batch_max: most reports in one transaction.
        acquire_timeout: seconds a call waits for a connection before failing.
        connect_timeout: seconds one connection attempt may take.
    """

    def __init__(
        self,
        url: str,
        *,
        keep_raw: bool = True,
        code_table: CodeTable | None = None,
        pool_size: int = 8,
        writers: int = 1,
        batch_max: int = 200,
        acquire_timeout: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if not 1 <= writers <= pool_size:
            raise ValueError(f"writers={writers}: expected 1 to pool_size ({pool_size})")
        self.url = url
        self.keep_raw = keep_raw
        self.code_table = code_table
        self.batch_max = batch_max
        self._writer_count = writers
        self._pool = AsyncConnectionPool(
            url,
            min_size=writers,
            max_size=pool_size,
            open=False,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(connect_timeout))},
            timeout=acquire_timeout,
            # attempts back off 1, 2, 4 s, then stop; the next call starts them again, so a
            # long outage does not leave minutes between attempts once the database is back
            reconnect_timeout=_RECONNECT_WINDOW,
            name="mm7-store",
        )
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writers: list[asyncio.Task[None]] = []
        self._waiters = PendingWaiters()
        self._opened = False
        self._closed = False
        self._failed_groups = 0

    def __repr__(self) -> str:
        return f"PostgresStore({redacted_url(self.url)!r})"

    async def open(self) -> None:
        """Connect and check the schema version (raises :class:`StoreVersionError`)."""
        if self._opened:
            return
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        await self._pool.open(wait=True, timeout=self._pool.timeout)
        try:
            async with self._pool.connection() as conn:
                StoreVersionError.check(redacted_url(self.url), await schema_version(conn))
        except BaseException:
            await self._pool.close()
            raise
        self._opened = True
        self._writers = [
            asyncio.get_running_loop().create_task(self._write_loop(), name=f"mm7-writer-{n}")
            for n in range(self._writer_count)
        ]

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the writers (reports waiting for them fail) and close every connection."""
        if self._closed:
            return
        self._closed = True
        for task in self._writers:
            task.cancel()
        for task in self._writers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(RuntimeError(f"{self!r} closed before the commit"))
        await self._pool.close()
        self._waiters.wake()

    def _check_open(self) -> None:
        if self._closed or not self._opened:
            raise RuntimeError(f"{self!r} is {'closed' if self._closed else 'not open'}")

    # -- writing -------------------------------------------------------------------------------

    async def add(
        self,
        message: IncomingMessage,
        *,
        raw_body: bytes = b"",
        content_type: str | None = None,
    ) -> AddResult:
        """Store ``message`` (or count its duplicate); returns after the commit."""
        self._check_open()
        values = item_values(
            message,
            code_table=self.code_table,
            raw_body=raw_body if self.keep_raw else None,
            content_type=content_type,
        )
        future: asyncio.Future[AddResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(message, values, future))
        result = await future
        if result.created:
            self._waiters.wake()
        return result

    async def _write_loop(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self.batch_max and not self._queue.empty():
                group.append(self._queue.get_nowait())
            group = [pending for pending in group if not pending.future.done()]
            if not group:
                continue
            try:
                await self._write(group)
            except asyncio.CancelledError:
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(RuntimeError("store closed during commit"))
                raise

    async def _write(self, group: list[_Pending]) -> None:
        """Write a group and settle its futures; a failed group is retried item by item when
        the database refused its data (one bad report does not fail the others)."""
        try:
            results = await self._write_group(group)
        except Exception as exc:
            if len(group) > 1 and not isinstance(exc, psycopg.OperationalError):
                for pending in group:
                    await self._write([pending])
                return
            if not isinstance(exc, psycopg.OperationalError):
                log.warning("%r refused a report: %s", self, exc)
            else:
                if self._failed_groups == 0:  # one line per change of state, not per report
                    log.warning("%r cannot store (faults answered until it can): %s", self, exc)
                self._failed_groups += 1
            for pending in group:
                if not pending.future.done():
                    pending.future.set_exception(ConnectionError(f"{self!r}: not stored: {exc}"))
            return
        if self._failed_groups:
            log.warning("%r stores again, after %d failed groups", self, self._failed_groups)
            self._failed_groups = 0
        for pending, result in zip(group, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _write_group(self, group: list[_Pending]) -> list[AddResult]:
        """Store one group in one statement (one round trip, one commit) and read it back.

        The group travels as one JSON document; duplicates inside it become one row whose
        ``attempts`` counts them. A row comes back with ``attempts`` equal to its count in the
        group only when this statement inserted it.
        """
        by_key: dict[str, list[int]] = {}
        for n, pending in enumerate(group):
            by_key.setdefault(pending.values["dedup_key"], []).append(n)
        batch = []
        for key in sorted(by_key):  # one lock order in every transaction: no deadlocks
            values = dict(group[by_key[key][0]].values, attempts=len(by_key[key]))
            batch.append(_json_row(values))
        document = Jsonb(batch)
        with_parts = any(isinstance(p.message, DeliverRequest) for p in group)
        async with self._pool.connection() as conn:
            # an MO message's parts are written by a second statement: one transaction for both
            atomic = conn.transaction() if with_parts else contextlib.nullcontext()
            async with atomic:
                rows = await (await conn.execute(_INSERT_GROUP, (document,))).fetchall()
                found = {row[-1]: row for row in rows}
                items = {
                    key: dict(zip(ITEM_COLUMNS, found[key][: len(ITEM_COLUMNS)], strict=True))
                    for key in by_key
                }
                parts: dict[int, tuple[Part, ...]] = {}
                if with_parts:
                    parts = await self._store_parts(conn, group, by_key, items)
        results: list[AddResult | None] = [None] * len(group)
        for key, numbers in by_key.items():
            row = found[key]
            submit_values = dict(zip(SUBMIT_COLUMNS, row[len(ITEM_COLUMNS) : -1], strict=True))
            submit = submit_from_row(submit_values) if submit_values["message_id"] else None
            item = item_from_row(items[key], parts.get(items[key]["id"], ()), submit)
            inserted = items[key]["attempts"] == len(numbers)
            for position, n in enumerate(numbers):
                results[n] = AddResult(item, created=inserted and position == 0)
        return [result for result in results if result is not None]

    @staticmethod
    async def _store_parts(
        conn: psycopg.AsyncConnection[Any],
        group: list[_Pending],
        by_key: dict[str, list[int]],
        items: dict[str, dict[str, Any]],
    ) -> dict[int, tuple[Part, ...]]:
        """Store the parts of new MO messages (same transaction); every MO item's parts."""
        new_parts = []
        for key, numbers in by_key.items():
            message = group[numbers[0]].message
            row = items[key]
            if isinstance(message, DeliverRequest) and row["attempts"] == len(numbers):
                new_parts += [(row["id"], index, p) for index, p in enumerate(message.content)]
        if new_parts:
            async with conn.cursor() as cur:
                await cur.executemany(
                    f"INSERT INTO parts ({', '.join(PART_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(PART_COLUMNS))})",
                    [
                        [
                            Jsonb(value) if column == "headers" else value
                            for column, value in part_values(item_id, index, p).items()
                        ]
                        for item_id, index, p in new_parts
                    ],
                )
        return await _load_parts(conn, [r["id"] for r in items.values() if r["kind"] == "deliver"])

    async def mark_handled(self, item: int | StoredItem) -> bool:
        """Mark an item handled (committed before returning); releases its claim.

        Returns False when it was already handled or does not exist.
        """
        self._check_open()
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE items SET handled_at = now(), claimed_until = NULL "
                "WHERE id = %s AND handled_at IS NULL",
                (item_id_of(item),),
            )
            return cur.rowcount > 0

    async def record_submit(self, request: SubmitRequest, result: SubmitOutcome) -> None:
        """Record a submit so reports for its MessageID correlate with it.

        Matches the client's ``on_result`` hook: ``MM7Client(..., on_result=store.record_submit)``;
        several senders may record into one database. Recording a MessageID again replaces it.
        """
        self._check_open()
        values = submit_values(request, result, utc_now())
        if values is None:
            return
        columns = list(values)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "message_id")
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO submits ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT (message_id) DO UPDATE SET {updates}",
                [values[c] for c in columns],
            )

    async def claim(
        self, consumer: str, *, kind: ItemKind | None = None, limit: int = 10, lease: float = 60.0
    ) -> list[StoredItem]:
        """Claim up to ``limit`` pending items nobody holds, for ``lease`` seconds, oldest first.

        ``FOR UPDATE SKIP LOCKED``: consumers claiming at the same time get different items.
        A claim ends when the item is marked handled or when its lease (database clock) ends.
        """
        self._check_open()
        kind_clause = "AND kind = %(kind)s" if kind is not None else ""
        sql = (
            "UPDATE items SET claimed_by = %(consumer)s, "
            "claimed_until = now() + make_interval(secs => %(lease)s) "
            "WHERE id IN (SELECT id FROM items WHERE handled_at IS NULL "
            f"AND (claimed_until IS NULL OR claimed_until < now()) {kind_clause} "
            "ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            f"RETURNING {_RETURNING_ITEMS}"
        )
        params = {"consumer": consumer, "lease": lease, "limit": limit, "kind": kind}
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(sql, params)).fetchall()
            return await _items_from_rows(conn, sorted(rows, key=lambda r: int(r[0])))

    # -- reading -------------------------------------------------------------------------------

    async def get(self, item_id: int) -> StoredItem | None:
        """One item by id, handled or not."""
        found = await self._select("WHERE id = %s", (item_id,))
        return found[0] if found else None

    async def pending(
        self, *, kind: ItemKind | None = None, limit: int | None = None
    ) -> list[StoredItem]:
        """Items not yet handled, oldest first."""
        return await self.items(kind=kind, handled=False, limit=limit)

    async def items(
        self,
        *,
        kind: ItemKind | None = None,
        message_id: str | None = None,
        handled: bool | None = None,
        limit: int | None = None,
    ) -> list[StoredItem]:
        """Stored items, oldest first, filtered by kind, MessageID and handled state."""
        where, params = items_filter("%s", kind=kind, message_id=message_id, handled=handled)
        return await self._select(where, params, limit)

    async def find_submit(self, message_id: str) -> SubmitRecord | None:
        """The submit recorded for ``message_id``, if any."""
        self._check_open()
        async with self._pool.connection() as conn:
            return (await _load_submits(conn, [message_id])).get(message_id)

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

        Same contract as :meth:`SqliteStore.iter_pending
        <mm7client.receiver.stores.sqlite.SqliteStore.iter_pending>`. Other receivers' items
        are seen within ``poll_interval`` seconds, this store's own at once. Without
        ``claim`` an item committed late with a lower id is still yielded (the iterator
        remembers what it yielded, not the highest id).
        """
        name = consumer or default_consumer_name()
        yielded: set[int] = set()

        async def fetch() -> list[StoredItem]:
            if claim:
                return await self.claim(name, kind=kind, lease=lease)
            where = "WHERE handled_at IS NULL AND NOT (id = ANY(%s))"
            params: list[Any] = [sorted(yielded)]
            if kind is not None:
                where += " AND kind = %s"
                params.append(kind)
            return await self._select(where, params, 100)

        async def forget_handled() -> None:
            if yielded:
                yielded.intersection_update(await self._still_pending(yielded))

        batches = self._waiters.batches(
            fetch,
            closed=lambda: self._closed,
            poll_interval=poll_interval,
            stop_when_empty=stop_when_empty,
            idle=forget_handled,
        )
        async for batch in batches:
            for item in batch:
                yielded.add(item.id)
                yield item

    async def _still_pending(self, ids: set[int]) -> set[int]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM items WHERE id = ANY(%s) AND handled_at IS NULL", (list(ids),)
            )
            return {int(row[0]) for row in await cur.fetchall()}

    async def _select(
        self, where: str, params: Sequence[Any], limit: int | None = None
    ) -> list[StoredItem]:
        self._check_open()
        sql = f"{_SELECT_ITEMS} {where} ORDER BY id"
        args = list(params)
        if limit is not None:
            sql += " LIMIT %s"
            args.append(limit)
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(sql, args)).fetchall()
            return await _items_from_rows(conn, rows)


async def _items_from_rows(
    conn: psycopg.AsyncConnection[Any], rows: Iterable[Sequence[Any]]
) -> list[StoredItem]:
    values = [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in rows]
    parts = await _load_parts(conn, [v["id"] for v in values if v["kind"] == "deliver"])
    submits = await _load_submits(conn, {v["message_id"] for v in values} - {None})
    return [item_from_row(v, parts.get(v["id"], ()), submits.get(v["message_id"])) for v in values]


async def _load_submits(
    conn: psycopg.AsyncConnection[Any], message_ids: Iterable[str]
) -> dict[str, SubmitRecord]:
    wanted = list(message_ids)
    if not wanted:
        return {}
    cur = await conn.execute(
        f"{_SELECT_SUBMITS} WHERE message_id = ANY(%s)",
        (wanted,),
    )
    rows = await cur.fetchall()
    records = [submit_from_row(dict(zip(SUBMIT_COLUMNS, row, strict=True))) for row in rows]
    return {record.message_id: record for record in records}


async def _load_parts(
    conn: psycopg.AsyncConnection[Any], item_ids: list[int]
) -> dict[int, tuple[Part, ...]]:
    if not item_ids:
        return {}
    cur = await conn.execute(
        f"SELECT {', '.join(PART_COLUMNS)} FROM parts "
        "WHERE item_id = ANY(%s) ORDER BY item_id, idx",
        (item_ids,),
    )
    return parts_by_item([dict(zip(PART_COLUMNS, row, strict=True)) async for row in cur])
