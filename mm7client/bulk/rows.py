"""Message rows from CSV or JSONL, and the SubmitRequest each one becomes.

One message per row. Columns (CSV header, or JSONL keys; case-insensitive, ``-`` or a space
read as ``_``):

``to``
    the recipient (required); several separated by ``;`` go in one SubmitReq where the
    carrier profile allows it (LGT: one per SubmitReq).
``subject``, ``text``
    the subject and the text part.
``image``
    a file path, relative to the input file's folder; several separated by ``;``, or the
    column repeated (CSV), or a list (JSONL).
``vas_id``, ``callback``, ``kisa_code``
    per-row identities overriding the shared ones (:class:`RowDefaults`).

:func:`read_rows` yields an :class:`InputRow` per record, or a :class:`RowError` naming the row,
its line and the field when the record cannot be read; nothing is dropped silently. A problem
with the whole file (an unknown column, no ``to`` column) raises :class:`InputFileError`
before any row is read. :func:`build_request` turns a row into a SubmitRequest and checks it
against the carrier profile, raising :class:`RowError` for what the profile refuses.
"""

from __future__ import annotations

import csv
import json
import mimetypes
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mm7client.codec.validate import validate_submit
from mm7client.errors import ValidationError
from mm7client.model import Address, Part, SubmitRequest
from mm7client.profiles import CarrierProfile

__all__ = [
    "COLUMNS",
    "InputFileError",
    "InputFormat",
    "InputRow",
    "RowDefaults",
    "RowError",
    "build_request",
    "read_rows",
]

#: The columns a row may have, in the order the documentation lists them.
COLUMNS: tuple[str, ...] = ("to", "subject", "text", "image", "vas_id", "callback", "kisa_code")

InputFormat = Literal["csv", "jsonl"]

#: Separator of several recipients or images in one cell.
SEPARATOR = ";"

#: MM7 field of a ValidationError -> the row's column that holds it.
_FIELD_COLUMNS = {
    "VASID": "vas_id",
    "VASPID": "vasp_id",
    "KisaOrigCode": "kisa_code",
    "CallBack": "callback",
    "Subject": "subject",
    "SenderAddress": "sender_address",
}


class InputFileError(ValueError):
    """The input as a whole cannot be read (bad header, unknown column): nothing was sent."""


class RowError(ValueError):
    """One row cannot be sent as it is; the message names the row, its line and the field.

    Attributes:
        number: the row number (1 for the first record after a CSV header).
        line: the line of the input where the record starts.
        field: the column (or ``(row)`` / ``(json)`` for the record as a whole).
        reason: what is wrong.
        to: the recipients, when they could be read (for the result row).
    """

    def __init__(
        self, number: int, line: int, field: str, reason: str, *, to: tuple[str, ...] = ()
    ) -> None:
        self.number = number
        self.line = line
        self.field = field
        self.reason = reason
        self.to = to
        super().__init__(f"row {number} (line {line}): {field}: {reason}")


@dataclass(frozen=True, slots=True)
class InputRow:
    """One message row as read (nothing checked against a profile yet).

    Attributes:
        number: the row number (1 for the first record).
        line: the line of the input where the record starts.
        to: the recipients.
        images: image paths as written (relative ones are resolved by :func:`build_request`).
    """

    number: int
    line: int
    to: tuple[str, ...] = ()
    subject: str | None = None
    text: str | None = None
    images: tuple[str, ...] = ()
    vas_id: str | None = None
    callback: str | None = None
    kisa_code: str | None = None


@dataclass(frozen=True, slots=True)
class RowDefaults:
    """What every row shares; a row's own non-empty value wins (its images replace these).

    Attributes:
        base_dir: folder relative image paths are resolved from (the input file's folder).
        delivery_report: ask the MMSC for a delivery report.
        hints: column -> where else the value can come from, added to a "missing" error, e.g.
            ``{"vas_id": "a vas_id column, --vas-id or MM7_VAS_ID"}``.
    """

    subject: str | None = None
    text: str | None = None
    images: tuple[str, ...] = ()
    vasp_id: str | None = None
    vas_id: str | None = None
    callback: str | None = None
    kisa_code: str | None = None
    delivery_report: bool = True
    base_dir: Path = Path(".")
    hints: Mapping[str, str] = field(default_factory=dict)


def _column_name(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace("-", "_").replace(" ", "_")


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(SEPARATOR) if item.strip())


def _cell(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def read_rows(
    lines: Iterable[str], fmt: InputFormat, *, source: str = "<input>"
) -> Iterator[InputRow | RowError]:
    """Read message rows from ``lines`` (an open text file, ``sys.stdin``, a list of lines).

    Yields one :class:`InputRow` or :class:`RowError` per record, in order; blank lines are
    skipped and not numbered. Raises :class:`InputFileError` when the CSV header is unusable.
    """
    if fmt == "csv":
        return _read_csv(lines, source)
    if fmt == "jsonl":
        return _read_jsonl(lines)
    raise ValueError(f"fmt={fmt!r}: expected 'csv' or 'jsonl'")


def _read_csv(lines: Iterable[str], source: str) -> Iterator[InputRow | RowError]:
    reader = csv.reader(lines)
    header: list[str] | None = None
    number = 0
    last_line = 0
    for record in reader:
        start, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = _check_header(record, source, start)
            continue
        number += 1
        if len(record) > len(header):
            yield RowError(
                number,
                start,
                "(row)",
                f"{len(record)} fields but the header has {len(header)} (a ';' or a quote "
                "missing?)",
            )
            continue
        values: dict[str, str] = {}
        images: list[str] = []
        for name, cell in zip(header, record, strict=False):
            if name == "image":
                images.extend(_split(cell))
            elif cell.strip():
                values[name] = cell.strip()
        yield InputRow(
            number=number,
            line=start,
            to=_split(values.get("to", "")),
            subject=values.get("subject"),
            text=values.get("text"),
            images=tuple(images),
            vas_id=values.get("vas_id"),
            callback=values.get("callback"),
            kisa_code=values.get("kisa_code"),
        )
    if header is None:
        raise InputFileError(f"{source}: empty input: expected a CSV header with a 'to' column")


def _check_header(record: list[str], source: str, line: int) -> list[str]:
    header = [_column_name(name) for name in record]
    for name in header:
        if name not in COLUMNS:
            raise InputFileError(
                f"{source}: line {line}: unknown column {name!r} (known: {', '.join(COLUMNS)})"
            )
    repeated = sorted({n for n in header if n != "image" and header.count(n) > 1})
    if repeated:
        raise InputFileError(f"{source}: line {line}: column {repeated[0]!r} appears twice")
    if "to" not in header:
        raise InputFileError(f"{source}: line {line}: no 'to' column (header: {record})")
    return header


def _read_jsonl(lines: Iterable[str]) -> Iterator[InputRow | RowError]:
    number = 0
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        number += 1
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield RowError(number, line_no, "(json)", f"not JSON: {exc}")
            continue
        if not isinstance(data, dict):
            yield RowError(number, line_no, "(json)", f"expected an object, got {data!r:.60}")
            continue
        try:
            yield _row_from_object(number, line_no, data)
        except RowError as exc:
            yield exc


def _row_from_object(number: int, line: int, data: dict[str, Any]) -> InputRow:
    values: dict[str, tuple[str, ...] | str | None] = {}
    for key, value in data.items():
        name = _column_name(str(key))
        if name not in COLUMNS:
            raise RowError(number, line, str(key), f"unknown field (known: {', '.join(COLUMNS)})")
        values[name] = _json_value(number, line, name, value)
    to = values.get("to")
    images = values.get("image")

    def text(name: str) -> str | None:
        value = values.get(name)
        if isinstance(value, tuple):
            raise RowError(number, line, name, "one value expected, not a list")
        return value

    return InputRow(
        number=number,
        line=line,
        to=to if isinstance(to, tuple) else _split(to or ""),
        subject=text("subject"),
        text=text("text"),
        images=images if isinstance(images, tuple) else _split(images or ""),
        vas_id=text("vas_id"),
        callback=text("callback"),
        kisa_code=text("kisa_code"),
    )


def _json_value(number: int, line: int, name: str, value: Any) -> tuple[str, ...] | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _cell(value)
    if isinstance(value, list) and name in ("to", "image"):
        if not all(isinstance(item, str) for item in value):
            raise RowError(number, line, name, f"a list of strings expected, got {value!r:.60}")
        return tuple(item.strip() for item in value if item.strip())
    hint = " (write numbers as strings: a number loses its leading zeros)"
    raise RowError(number, line, name, f"a string expected, got {value!r:.40}{hint}")


def build_request(
    row: InputRow,
    defaults: RowDefaults,
    profile: CarrierProfile,
    *,
    read_file: Callable[[Path], bytes] = Path.read_bytes,
) -> SubmitRequest:
    """The SubmitRequest of ``row`` (shared values filled in), checked against ``profile``.

    ``read_file`` reads an image (inject a cached one for many rows sharing images). Raises
    :class:`RowError` naming the row, the line and the column at fault.
    """

    def fail(column: str, reason: str) -> RowError:
        return RowError(row.number, row.line, column, reason, to=row.to)

    if not row.to:
        raise fail("to", "missing: every row needs a recipient")
    parts: list[Part] = []
    text = row.text if row.text is not None else defaults.text
    if text is not None:
        parts.append(Part.from_text(text))
    for name in row.images or defaults.images:
        path = Path(name)
        if not path.is_absolute():
            path = defaults.base_dir / path
        try:
            data = read_file(path)
        except OSError as exc:
            raise fail("image", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(Part.from_bytes(data, media_type, filename=path.name))
    request = SubmitRequest(
        to=[Address(number) for number in row.to],
        subject=row.subject if row.subject is not None else defaults.subject,
        content=parts,
        vasp_id=defaults.vasp_id,
        vas_id=row.vas_id or defaults.vas_id,
        callback=row.callback or defaults.callback,
        kisa_orig_code=row.kisa_code or defaults.kisa_code,
        delivery_report=defaults.delivery_report,
    )
    try:
        validate_submit(request, profile)
    except ValidationError as exc:
        column = _column_of(exc.field, has_text=text is not None)
        if exc.value is None or exc.value == []:
            hint = defaults.hints.get(column)
            reason = f"missing: {exc.reason}" + (f" (give {hint})" if hint else "")
        else:
            reason = f"{_shown(exc.value)}: {exc.reason}"
        raise fail(column, reason) from None
    return request


def _column_of(mm7_field: str, *, has_text: bool) -> str:
    """The row column an MM7 field of a :class:`ValidationError` came from."""
    if mm7_field.startswith("Recipients"):
        return "to"
    if mm7_field.startswith("Content["):
        index = int(mm7_field[len("Content[") :].split("]", 1)[0])
        return "text" if has_text and index == 0 else "image"
    if mm7_field == "Content":
        return "image"
    return _FIELD_COLUMNS.get(mm7_field, mm7_field)


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
