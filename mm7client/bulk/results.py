"""The result file of a bulk send: one row per input row as it ends, CSV or JSONL.

Columns: ``row`` and ``to`` (which input row), the seed table's six (``provider, msgType,
resultType, originResult, convertResult, resultMessage``), then ``category``, ``messageId``,
``attempts``, ``vasId`` and ``detail`` (the carrier's StatusText, or why a row was invalid).

Two kinds of rows never came from the carrier:

* an invalid input row: provider ``INPUT``, originResult ``invalid``, category ``failed``,
  attempts 0 - nothing was sent;
* a row that was in flight when an earlier run was killed: provider ``TRANSPORT``,
  originResult ``ambiguous`` (3906), category ``unknown`` - it was possibly sent.

Every row is one line (line breaks inside values are written as spaces) handed to the
operating system in one write, so a killed process leaves whole lines and at most one partial
last line, which :func:`read_results` ignores and the next writer cuts off. A writer holds an
exclusive lock on its file: two runs never append to one result file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mm7client.codes import COLUMNS as CODE_COLUMNS
from mm7client.codes import TransportFailure, normalize_transport_failure

if TYPE_CHECKING:
    from mm7client.bulk.rows import RowError
    from mm7client.client import SubmitResult
    from mm7client.codes import NormalizedResult

__all__ = [
    "INPUT_PROVIDER",
    "INVALID",
    "RESULT_COLUMNS",
    "ResultFileError",
    "ResultFormat",
    "ResultLog",
    "ResultRow",
    "ResultWriter",
    "read_results",
    "result_format",
]

#: The columns of a result file, in order: the row, the seed's six, then ours.
RESULT_COLUMNS: tuple[str, ...] = (
    "row",
    "to",
    *CODE_COLUMNS[:6],
    "category",
    "messageId",
    "attempts",
    "vasId",
    "detail",
)
#: provider / originResult of an input row that could not be sent.
INPUT_PROVIDER = "INPUT"
INVALID = "invalid"
#: msgType of every row (2 = MMS, as in the seed).
MSG_TYPE_MMS = 2

ResultFormat = Literal["csv", "jsonl"]


class ResultFileError(ValueError):
    """The result file cannot be used (unknown suffix, not a result file, a corrupt line)."""


def result_format(path: str | Path) -> ResultFormat:
    """``"csv"`` or ``"jsonl"`` from the file name; raises :class:`ResultFileError` otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ResultFileError(f"{str(path)!r}: a result file name ends in .csv or .jsonl")


@dataclass(frozen=True, slots=True)
class ResultRow:
    """The result of one input row (see the module documentation for the columns)."""

    row: int
    to: str
    provider: str
    msg_type: int | None
    result_type: int | None
    origin_result: str
    convert_result: int | None
    result_message: str
    category: str
    message_id: str | None = None
    attempts: int | None = None
    vas_id: str | None = None
    detail: str = ""

    @classmethod
    def of(cls, row: int, to: str, result: SubmitResult) -> ResultRow:
        """The row of a client result."""
        n = result.normalized
        detail = n.status_text or ""
        if result.ambiguous:
            detail = (detail + " " if detail else "") + "(connection lost after sending)"
        return cls.normalized(
            row,
            to,
            n,
            message_id=result.message_id,
            attempts=result.attempts,
            vas_id=result.vas_id,
            detail=detail,
        )

    @classmethod
    def normalized(
        cls,
        row: int,
        to: str,
        n: NormalizedResult,
        *,
        message_id: str | None = None,
        attempts: int | None = None,
        vas_id: str | None = None,
        detail: str = "",
    ) -> ResultRow:
        """The row of a normalized result (its seed columns) and what else is known."""
        return cls(
            row=row,
            to=to,
            provider=n.provider,
            msg_type=n.msg_type,
            result_type=n.result_type,
            origin_result=n.origin_result,
            convert_result=n.convert_result,
            result_message=n.result_message,
            category=str(n.category),
            message_id=message_id,
            attempts=attempts,
            vas_id=vas_id,
            detail=detail,
        )

    @classmethod
    def invalid(cls, error: RowError, vas_id: str | None = None) -> ResultRow:
        """The row of an input row that was not sent: category ``failed``, 0 attempts."""
        return cls(
            row=error.number,
            to=";".join(error.to),
            provider=INPUT_PROVIDER,
            msg_type=MSG_TYPE_MMS,
            result_type=0,
            origin_result=INVALID,
            convert_result=None,
            result_message="Invalid row",
            category="failed",
            attempts=0,
            vas_id=vas_id,
            detail=f"line {error.line}: {error.field}: {error.reason}",
        )

    @classmethod
    def interrupted(cls, row: int, to: str) -> ResultRow:
        """A row in flight when an earlier run stopped: possibly sent (category ``unknown``)."""
        return cls.normalized(
            row,
            to,
            normalize_transport_failure(TransportFailure.AMBIGUOUS),
            detail="in flight when an earlier run stopped: possibly sent, not resent",
        )

    @property
    def is_invalid(self) -> bool:
        """True for an input row that was never sent."""
        return self.provider == INPUT_PROVIDER and self.origin_result == INVALID

    def as_dict(self) -> dict[str, Any]:
        """The row keyed by :data:`RESULT_COLUMNS`."""
        values = (
            self.row,
            self.to,
            self.provider,
            self.msg_type,
            self.result_type,
            self.origin_result,
            self.convert_result,
            self.result_message,
            self.category,
            self.message_id,
            self.attempts,
            self.vas_id,
            self.detail,
        )
        return dict(zip(RESULT_COLUMNS, values, strict=True))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResultRow:
        """Read a row back (values as JSON or CSV text); raises ValueError when malformed."""
        missing = [name for name in RESULT_COLUMNS if name not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return cls(
            row=int(data["row"]),
            to=str(data["to"]),
            provider=str(data["provider"]),
            msg_type=_int_or_none(data["msgType"]),
            result_type=_int_or_none(data["resultType"]),
            origin_result=str(data["originResult"]),
            convert_result=_int_or_none(data["convertResult"]),
            result_message=str(data["resultMessage"]),
            category=str(data["category"]),
            message_id=_str_or_none(data["messageId"]),
            attempts=_int_or_none(data["attempts"]),
            vas_id=_str_or_none(data["vasId"]),
            detail=str(data["detail"] or ""),
        )

    def to_line(self, fmt: ResultFormat) -> str:
        """One line of a result file, newline included."""
        values = {k: _one_line(v) for k, v in self.as_dict().items()}
        if fmt == "jsonl":
            return json.dumps(values, ensure_ascii=False) + "\n"
        return _csv_line([("" if v is None else v) for v in values.values()])


def _one_line(value: Any) -> Any:
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        return " ".join(value.splitlines())
    return value


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


@dataclass(frozen=True, slots=True)
class ResultLog:
    """What a result file holds.

    Attributes:
        rows: ``(byte offset of the line, row)`` in file order (a row number may appear more
            than once: the last line is its current result).
        end: the byte length of the complete lines (a killed writer may have left a partial
            line after it).
        size: the file's size.
    """

    rows: list[tuple[int, ResultRow]]
    end: int
    size: int


def read_results(path: str | Path) -> ResultLog:
    """Read a result file written by :class:`ResultWriter` (missing: empty).

    A partial last line (no line break: the writer was killed mid-write) is left out. Raises
    :class:`ResultFileError` for a file that is not a result file or has a corrupt line.
    """
    fmt = result_format(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return ResultLog([], 0, 0)
    end = data.rfind(b"\n") + 1
    rows: list[tuple[int, ResultRow]] = []
    offset = 0
    for number, raw in enumerate(data[:end].splitlines(keepends=True), start=1):
        line_offset, offset = offset, offset + len(raw)
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if fmt == "csv" and number == 1:
            if tuple(next(csv.reader([text]), [])) != RESULT_COLUMNS:
                raise ResultFileError(
                    f"{str(path)!r}: not a result file of this command (line 1 is {text[:80]!r}, "
                    f"expected the header {','.join(RESULT_COLUMNS)})"
                )
            continue
        if not text.strip():
            continue
        try:
            if fmt == "csv":
                values: Any = dict(zip(RESULT_COLUMNS, next(csv.reader([text])), strict=True))
            else:
                values = json.loads(text)
                if not isinstance(values, dict):
                    raise ValueError("not a JSON object")
            row = ResultRow.from_dict(values)
        except ValueError as exc:
            where = f"{str(path)!r}: line {number}"
            raise ResultFileError(f"{where} is not a result row: {exc}") from None
        rows.append((line_offset, row))
    return ResultLog(rows, end, len(data))


def _lock(fd: int, path: Path) -> None:
    """An exclusive advisory lock, released when the file is closed or the process dies."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system: no locking
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ResultFileError(
            f"{str(path)!r} is in use by another run (one mm7 send per result file)"
        ) from None


class ResultWriter:
    """Appends result rows to a file, one line per write, each handed to the OS at once.

    Opening takes an exclusive lock on the file (one run per result file: a second
    ``mm7 send`` on it is refused instead of sending the same rows), reads what it holds
    (:attr:`log`), cuts off a partial last line left by a killed writer and writes the CSV
    header into an empty file. ``fsync=True`` also forces each line to the disk (survives a
    power loss, not only a crash of this process).
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.format = result_format(self.path)
        self.fsync = fsync
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        try:
            _lock(self._file.fileno(), self.path)
            #: what the file held when opened (without a partial last line)
            self.log = read_results(self.path)
        except BaseException:
            self._file.close()
            raise
        if self._file.tell() > self.log.end:
            self._file.truncate(self.log.end)
            self._file.seek(0, os.SEEK_END)
        if self.format == "csv" and self._file.tell() == 0:
            self._write(_csv_line(list(RESULT_COLUMNS)))

    @property
    def size(self) -> int:
        """Bytes in the file (every line written so far included)."""
        return self._file.tell()

    def write(self, row: ResultRow) -> None:
        """Append ``row`` as one line."""
        self._write(row.to_line(self.format))

    def _write(self, line: str) -> None:
        data = memoryview(line.encode("utf-8"))
        while data:
            written = self._file.write(data)
            data = data[written or 0 :]
        if self.fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
