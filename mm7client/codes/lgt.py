"""Normalization of MM7 results (LGT table and transport failures) into one row per message.

The mapping is data: ``lgt_mm7.csv`` in this package holds the LGT seed table (the plain copy's
values, with the annotated copy's Korean explanation), a ``category`` for every row and a few
extra rows this project chose (provider ``MM7`` for standard 3GPP ``MMStatus`` values the LGT
table lacks, provider ``TRANSPORT`` for failures below MM7). Users can load their own CSV with
the same columns to override or extend it (:meth:`CodeTable.with_overrides`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Provider name of the shipped carrier table.
LGT = "LGT"
#: Provider of the project's generic 3GPP defaults (report statuses missing from LGT's table).
GENERIC_PROVIDER = "MM7"
#: Provider of the transport-failure rows.
TRANSPORT_PROVIDER = "TRANSPORT"
#: ``resultType`` values: 1 submit acknowledgement, 2 delivery report, 0 transport failure.
RESULT_TYPE_TRANSPORT = 0
RESULT_TYPE_SUBMIT = 1
RESULT_TYPE_REPORT = 2
#: ``originResult`` of the catch-all row used for MMStatus values no table knows.
WILDCARD = "*"
#: Last-resort values when a (user-built) table lacks even the 3000 / wildcard rows.
FALLBACK_CONVERT_RESULT = 3020
#: Columns of a mapping file: the seed's six, then ours.
COLUMNS: tuple[str, ...] = (
    "provider",
    "msgType",
    "resultType",
    "originResult",
    "convertResult",
    "resultMessage",
    "explanation",
    "category",
    "pauseSeconds",
)
_REQUIRED = COLUMNS[:6]


def _columns_of(row: CodeRow | NormalizedResult) -> dict[str, Any]:
    """The mapping-file columns of a table row or of a result built from one."""
    return {
        "provider": row.provider,
        "msgType": row.msg_type,
        "resultType": row.result_type,
        "originResult": row.origin_result,
        "convertResult": row.convert_result,
        "resultMessage": row.result_message,
        "explanation": row.explanation,
        "category": str(row.category),
        "pauseSeconds": row.pause_seconds,
    }


_INT_RE = re.compile(r"[+-]?[0-9]+")
_OK = "OK"
_NOK = "NOK"
_RETRIEVED = "retrieved"


class Category(StrEnum):
    """What the caller should do with a result."""

    SUCCESS = "success"
    """Accepted / delivered: nothing more to do."""
    FAILED = "failed"
    """Final failure: do not resend as is."""
    RETRY = "retry"
    """Transient: try again later."""
    THROTTLED = "throttled"
    """Slow down or pause this VASID (for ``pause_seconds`` if given), then resend."""
    UNKNOWN = "unknown"
    """Outcome not known: do not assume success, do not blindly resend."""


class TransportFailure(StrEnum):
    """Failures below MM7, for which no carrier code exists."""

    TIMEOUT = "timeout"
    """No response within the deadline."""
    CONNECTION_REFUSED = "connection_refused"
    """The peer refused the TCP connection: the request never arrived."""
    CONNECTION_ERROR = "connection_error"
    """DNS, TLS or network failure before the request was sent."""
    HTTP_ERROR = "http_error"
    """An HTTP error status (4xx/5xx) without a SOAP body."""
    UNPARSEABLE = "unparseable"
    """A response whose body is not an MM7 message."""
    AMBIGUOUS = "ambiguous"
    """The connection dropped after the request was sent: it may have been accepted."""


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One row of a mapping table (the seed's columns plus category and pause)."""

    provider: str
    msg_type: int
    result_type: int
    origin_result: str
    convert_result: int
    result_message: str
    explanation: str = ""
    category: Category = Category.UNKNOWN
    pause_seconds: float | None = None

    @property
    def key(self) -> tuple[str, int, str, str]:
        """Identity of the row; report rows are also keyed by their StatusText (OK / NOK)."""
        message = self.result_message.upper() if self.result_type == RESULT_TYPE_REPORT else ""
        return (self.provider.upper(), self.result_type, self.origin_result.casefold(), message)

    def as_row(self) -> dict[str, Any]:
        """The row keyed by the mapping file's column names."""
        return _columns_of(self)


@dataclass(frozen=True, slots=True)
class NormalizedResult:
    """The one row a caller stores per message, whatever the carrier (or network) said.

    ``origin_result`` and ``status_text`` are what was received; ``matched_origin`` is the
    ``originResult`` of the table row that decided the values (``2000`` for an unknown ``2999``).
    ``known`` is False when no row matched the received code exactly.
    """

    provider: str
    msg_type: int
    result_type: int
    origin_result: str
    convert_result: int
    result_message: str
    explanation: str
    category: Category
    pause_seconds: float | None
    known: bool
    status_text: str | None = None
    matched_origin: str = ""

    @property
    def spam_blocked(self) -> bool:
        """True for a report ``Retrieved`` + ``NOK``: blocked as spam but billed (-100)."""
        return (
            self.result_type == RESULT_TYPE_REPORT
            and self.matched_origin.casefold() == _RETRIEVED
            and self.result_message == _NOK
        )

    @property
    def is_final(self) -> bool:
        """True when the category is success or failed."""
        return self.category in (Category.SUCCESS, Category.FAILED)

    def as_row(self) -> dict[str, Any]:
        """A dict keyed by the seed's column names plus our own (JSON-serializable)."""
        return {**_columns_of(self), "known": self.known, "statusText": self.status_text}

    def to_dict(self) -> dict[str, Any]:
        """Alias of :meth:`as_row`."""
        return self.as_row()


class MappingFileError(ValueError):
    """A mapping file is missing columns or holds a malformed row."""


def _parse_category(value: str) -> Category | None:
    value = value.strip().lower()
    if not value:
        return None
    try:
        return Category(value)
    except ValueError:
        raise MappingFileError(f"unknown category {value!r}") from None


def _parse_pause(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    return float(value)


def parse_rows(
    text: str, *, source: str = "<mapping>", inherit: Mapping[tuple[str, int, str, str], CodeRow]
) -> list[CodeRow]:
    """Parse mapping CSV text (header with at least the seed's six columns) into rows.

    A row without a ``category`` takes the category (and pause) of the row it overrides in
    ``inherit``; a new row without one gets ``unknown`` and a warning.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise MappingFileError(f"{source}: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[CodeRow] = []
    for number, record in enumerate(reader, start=2):
        try:
            row = _row_from_record(record, inherit)
        except (KeyError, ValueError) as exc:
            raise MappingFileError(f"{source}:{number}: {exc}") from exc
        rows.append(row)
    return rows


def _row_from_record(
    record: Mapping[str, str | None], inherit: Mapping[tuple[str, int, str, str], CodeRow]
) -> CodeRow:
    def text(name: str) -> str:
        value = record.get(name)
        return "" if value is None else value

    # Values are kept verbatim (the seed has ``Multimedia content refused,``); only the
    # identifying columns are stripped.
    row = CodeRow(
        provider=text("provider").strip(),
        msg_type=int(text("msgType")),
        result_type=int(text("resultType")),
        origin_result=text("originResult").strip(),
        convert_result=int(text("convertResult")),
        result_message=text("resultMessage"),
        explanation=text("explanation"),
    )
    if not row.provider or not row.origin_result:
        raise ValueError("provider and originResult must not be empty")
    category = _parse_category(text("category"))
    pause = _parse_pause(record.get("pauseSeconds", record.get("pause_seconds")))
    if category is None:
        previous = inherit.get(row.key)
        if previous is not None:
            return replace(row, category=previous.category, pause_seconds=previous.pause_seconds)
        logger.warning(
            "mapping row %s/%s has no category; using 'unknown' (add a category column)",
            row.provider,
            row.origin_result,
        )
        category = Category.UNKNOWN
    return replace(row, category=category, pause_seconds=pause)


@dataclass(frozen=True)
class CodeTable:
    """An immutable mapping table: carrier codes to normalized results.

    Lookups fall back through providers: the requested one, then ``default_provider``, then
    the generic ``MM7`` rows.
    """

    rows: tuple[CodeRow, ...]
    default_provider: str = LGT
    _index: dict[tuple[str, int, str, str], CodeRow] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, int, str, str], CodeRow] = {}
        for row in self.rows:
            index[row.key] = row  # a later row wins
        object.__setattr__(self, "_index", index)

    @classmethod
    def default(cls) -> CodeTable:
        """The shipped table (``lgt_mm7.csv``), loaded once."""
        return _default_table()

    @classmethod
    def from_text(
        cls, text: str, *, default_provider: str = LGT, source: str = "<mapping>"
    ) -> CodeTable:
        """A table from CSV text with the mapping file's columns."""
        return cls(tuple(parse_rows(text, source=source, inherit={})), default_provider)

    @classmethod
    def load(cls, path: str | Path, *, default_provider: str = LGT) -> CodeTable:
        """A table from a user CSV file alone (no shipped defaults)."""
        path = Path(path)
        return cls.from_text(
            path.read_text("utf-8"), default_provider=default_provider, source=str(path)
        )

    def with_overrides(self, path: str | Path, *, default_provider: str | None = None) -> CodeTable:
        """A new table: this one with the rows of a user CSV replacing or extending it.

        A row replaces the row with the same provider, resultType, originResult (and, for
        reports, resultMessage); other rows are added.
        """
        path = Path(path)
        extra = parse_rows(path.read_text("utf-8"), source=str(path), inherit=self._index)
        logger.info("loaded %d mapping row(s) from %s", len(extra), path)
        return CodeTable(self.rows + tuple(extra), default_provider or self.default_provider)

    @property
    def effective_rows(self) -> list[CodeRow]:
        """The rows after overrides, in first-seen order."""
        return list(self._index.values())

    def _providers(self, provider: str | None) -> list[str]:
        chain = [provider or self.default_provider, self.default_provider, GENERIC_PROVIDER]
        out: list[str] = []
        for name in chain:
            if name.upper() not in out:
                out.append(name.upper())
        return out

    def find(
        self,
        result_type: int,
        origin_result: str,
        result_message: str = "",
        *,
        provider: str | None = None,
    ) -> CodeRow | None:
        """The row for a code, following the provider chain; None if there is none."""
        origin = origin_result.strip().casefold()
        message = result_message.upper() if result_type == RESULT_TYPE_REPORT else ""
        for name in self._providers(provider):
            row = self._index.get((name, result_type, origin, message))
            if row is not None:
                return row
            if result_type == RESULT_TYPE_REPORT:
                for other in (_OK, _NOK):
                    row = self._index.get((name, result_type, origin, other))
                    if row is not None:
                        return row
        return None

    def lookup(self, code: str) -> list[CodeRow]:
        """Every effective row whose originResult equals ``code`` (any provider, any type)."""
        wanted = code.strip().casefold()
        return [row for row in self.effective_rows if row.origin_result.casefold() == wanted]


@cache
def _default_table() -> CodeTable:
    text = resources.files(__package__ or "mm7client.codes").joinpath("lgt_mm7.csv")
    return CodeTable.from_text(text.read_text("utf-8"), source="lgt_mm7.csv")


def _result(
    row: CodeRow | None,
    *,
    result_type: int,
    origin: str,
    status_text: str | None,
    known: bool,
    provider: str,
    result_message: str | None = None,
    category: Category | None = None,
) -> NormalizedResult:
    if row is None:
        return NormalizedResult(
            provider=provider,
            msg_type=2,
            result_type=result_type,
            origin_result=origin,
            convert_result=FALLBACK_CONVERT_RESULT,
            result_message=result_message or "",
            explanation="",
            category=category or Category.UNKNOWN,
            pause_seconds=None,
            known=False,
            status_text=status_text,
        )
    return NormalizedResult(
        provider=row.provider,
        msg_type=row.msg_type,
        result_type=result_type,
        origin_result=origin,
        convert_result=row.convert_result,
        result_message=row.result_message if result_message is None else result_message,
        explanation=row.explanation,
        category=category or row.category,
        pause_seconds=row.pause_seconds,
        known=known,
        status_text=status_text,
        matched_origin=row.origin_result,
    )


def _as_int(code: object) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and _INT_RE.fullmatch(code.strip()):
        return int(code.strip())
    return None


def normalize_submit_status(
    code: int | str | None,
    status_text: str | None = None,
    *,
    table: CodeTable | None = None,
    provider: str | None = None,
) -> NormalizedResult:
    """Normalize a SubmitRsp (or fault) ``StatusCode`` (resultType 1). Never raises.

    A code no table knows is read as its MM7 class's x000 code (2999 -> 2000's row) and
    keeps that row's convertResult and category; a code outside 1xxx-4xxx, or one that is not
    a number, gets 3000's convertResult with category ``unknown``. Either way ``known`` is
    False and ``origin_result`` / ``status_text`` keep what was received.
    """
    table = table or CodeTable.default()
    origin = "" if code is None else str(code)
    number = _as_int(code)
    chosen = provider or table.default_provider
    if number is not None:
        row = table.find(RESULT_TYPE_SUBMIT, str(number), provider=provider)
        if row is not None:
            return _result(
                row,
                result_type=RESULT_TYPE_SUBMIT,
                origin=origin,
                status_text=status_text,
                known=True,
                provider=chosen,
            )
    in_class = number is not None and 1000 <= number <= 4999
    class_code = (number // 1000) * 1000 if number is not None and in_class else 3000
    row = table.find(RESULT_TYPE_SUBMIT, str(class_code), provider=provider)
    logger.info("unknown submit status %r (%r): treated as %d", code, status_text, class_code)
    return _result(
        row,
        result_type=RESULT_TYPE_SUBMIT,
        origin=origin,
        status_text=status_text,
        known=False,
        provider=chosen,
        category=None if in_class else Category.UNKNOWN,
    )


def _report_message(
    table: CodeTable, mm_status: str, status_text: str | None, provider: str | None
) -> str:
    text = (status_text or "").strip().upper()
    if text in (_OK, _NOK):
        return text
    if mm_status.casefold() == _RETRIEVED:
        return _OK
    # Otherwise the status's own row decides (``Forwarded`` is OK), else NOK.
    row = table.find(RESULT_TYPE_REPORT, mm_status, _NOK, provider=provider) if mm_status else None
    return row.result_message.upper() if row is not None else _NOK


def normalize_report(
    mm_status: str | None,
    status_text: str | None = None,
    *,
    table: CodeTable | None = None,
    provider: str | None = None,
) -> NormalizedResult:
    """Normalize a DeliveryReportReq ``MMStatus`` + ``StatusText`` (resultType 2). Never raises.

    MMStatus matches case-insensitively. ``result_message`` is the StatusText as ``OK`` or
    ``NOK``; a missing or free-form StatusText counts as ``OK`` for ``Retrieved``, as the
    status's own row says for the others (``Forwarded`` OK), and ``NOK`` for unknown statuses.
    ``Retrieved`` + ``NOK`` (spam-blocked but billed) and ``Retrieved`` + ``OK`` both give
    -100; tell them apart by ``spam_blocked`` or ``result_message``. An MMStatus no
    table knows uses the wildcard row (3020, ``unknown``) with ``known`` False.
    """
    table = table or CodeTable.default()
    raw = "" if mm_status is None else str(mm_status)
    status = raw.strip()
    chosen = provider or table.default_provider
    message = _report_message(table, status, status_text, provider)
    row = None
    if status and status != WILDCARD:
        row = table.find(RESULT_TYPE_REPORT, status, message, provider=provider)
    known = row is not None
    if row is None:
        logger.info("unknown MMStatus %r (%r)", mm_status, status_text)
        row = table.find(RESULT_TYPE_REPORT, WILDCARD, _NOK, provider=provider)
    return _result(
        row,
        result_type=RESULT_TYPE_REPORT,
        origin=raw,
        status_text=status_text,
        known=known,
        provider=chosen,
        result_message=message,
        category=None if known else Category.UNKNOWN,
    )


def normalize_transport_failure(
    kind: TransportFailure | str,
    detail: str = "",
    *,
    table: CodeTable | None = None,
) -> NormalizedResult:
    """Normalize a failure below MM7 (resultType 0, provider ``TRANSPORT``).

    ``detail`` (e.g. ``"HTTP 503"`` or the exception text) is kept as ``status_text``.
    Raises ValueError for a ``kind`` that is not a :class:`TransportFailure` value.
    """
    table = table or CodeTable.default()
    failure = TransportFailure(str(kind).strip().lower())
    row = table.find(RESULT_TYPE_TRANSPORT, failure.value, provider=TRANSPORT_PROVIDER)
    known = row is not None
    if row is None:
        # a user table without the transport rows: the shipped rows decide (the CSV is the one
        # place a transport failure's category is written down)
        row = _default_table().find(
            RESULT_TYPE_TRANSPORT, failure.value, provider=TRANSPORT_PROVIDER
        )
    return _result(
        row,
        result_type=RESULT_TYPE_TRANSPORT,
        origin=failure.value,
        status_text=detail or None,
        known=known,
        provider=TRANSPORT_PROVIDER,
    )


def iter_rows(table: CodeTable | None = None) -> Iterable[CodeRow]:
    """The effective rows of ``table`` (default: the shipped table)."""
    return (table or CodeTable.default()).effective_rows
