"""Resuming a bulk send: never send a row twice, even after a crash, a kill or Ctrl-C.

Two files sit side by side: the result file (:mod:`mm7client.bulk.results`) and its journal
``RESULTS.journal``. Before a row is handed to the client, the journal gets a line "row N is
being sent" (written to the operating system before the send; forced to disk too with
``fsync``). When the row's result is known, its line goes into the result file.

A rerun with the same result file reads both (:func:`plan_resume`):

* a row whose last result is ``success``, ``failed`` or ``unknown`` is final: not sent again;
* a row whose last result is ``retry`` or ``throttled`` (the carrier refused it for now,
  nothing was accepted), or an invalid row (nothing was sent), is tried again;
* a row the journal says was being sent, with no result line written after the journal was
  started, was in flight when the process stopped: the carrier may have accepted it. It gets
  a result line of category ``unknown`` (``ambiguous``) and is **not** sent again (at most
  once), unless the rerun asks to resend unknown rows (at least once).

The journal starts afresh at every run, recording the result file's size at that moment:
result lines past that offset were written by the run the journal belongs to. When a run ends
with nothing in flight, its journal is removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mm7client.bulk.results import ResultFileError, ResultRow

__all__ = [
    "FINAL_CATEGORIES",
    "Journal",
    "JournalState",
    "ResumePlan",
    "journal_path",
    "plan_resume",
]

#: Categories of a row that is not sent again (``unknown`` too, unless asked).
FINAL_CATEGORIES = frozenset({"success", "failed", "unknown"})

_JOURNAL_VERSION = 1


def journal_path(results: str | Path) -> Path:
    """The journal next to a result file: ``RESULTS.journal``."""
    path = Path(results)
    return path.with_name(path.name + ".journal")


@dataclass(frozen=True, slots=True)
class JournalState:
    """A journal as read back.

    Attributes:
        out_size: the result file's size when the journal was started.
        intents: row number -> recipients of every row handed to the client in that run.
    """

    out_size: int
    intents: dict[int, str]

    @classmethod
    def read(cls, path: str | Path) -> JournalState | None:
        """Read a journal (``None`` when there is none); a partial last line is ignored."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return None
        lines = data[: data.rfind(b"\n") + 1].splitlines()
        if not lines:
            return None
        try:
            header = json.loads(lines[0])
            if header.get("journal") != _JOURNAL_VERSION:
                raise ValueError(f"unknown journal version {header.get('journal')!r}")
            out_size = int(header["out_size"])
            intents: dict[int, str] = {}
            for line in lines[1:]:
                entry = json.loads(line)
                intents[int(entry["row"])] = str(entry["to"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ResultFileError(f"{str(path)!r}: corrupt journal: {exc}") from None
        return cls(out_size, intents)


class Journal:
    """The journal of one run: started empty (atomically), one line per row about to be sent.

    Args:
        path: the journal file (:func:`journal_path` of the result file).
        out_size: the result file's size now, before this run writes to it.
        fsync: force every line to disk before the send (survives a power loss).
    """

    def __init__(self, path: str | Path, out_size: int, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.pending: set[int] = set()
        header = json.dumps({"journal": _JOURNAL_VERSION, "out_size": out_size}) + "\n"
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(header.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()

    def sending(self, row: int, to: str) -> None:
        """Record that ``row`` is about to be handed to the client (before the send)."""
        self._file.write((json.dumps({"row": row, "to": to}, ensure_ascii=False) + "\n").encode())
        if self.fsync:
            os.fsync(self._file.fileno())
        self.pending.add(row)

    def done(self, row: int) -> None:
        """``row``'s result line is written (in memory only: the result file is the record)."""
        self.pending.discard(row)

    def close(self) -> None:
        """Close; remove the file when no row is left in flight (nothing to resolve)."""
        self._file.close()
        if not self.pending:
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class ResumePlan:
    """What a run does with the rows an earlier run already handled.

    Attributes:
        latest: the current result of every row with one (interrupted rows included).
        interrupted: rows that were in flight when the earlier run stopped, to be written as
            ``unknown`` results now (they were possibly sent).
        skip: row numbers not to send in this run.
    """

    latest: dict[int, ResultRow]
    interrupted: list[ResultRow]
    skip: frozenset[int]


def plan_resume(
    rows: Sequence[tuple[int, ResultRow]],
    journal: JournalState | None,
    *,
    resend_unknown: bool = False,
) -> ResumePlan:
    """Decide which rows a run skips from the result lines (offset, row) and the journal."""
    latest: dict[int, ResultRow] = {}
    written_since_journal: set[int] = set()
    for offset, row in rows:
        latest[row.row] = row
        if journal is not None and offset >= journal.out_size:
            written_since_journal.add(row.row)
    interrupted: list[ResultRow] = []
    if journal is not None:
        for number, to in sorted(journal.intents.items()):
            if number not in written_since_journal:
                row = ResultRow.interrupted(number, to)
                interrupted.append(row)
                latest[number] = row
    final = FINAL_CATEGORIES - {"unknown"} if resend_unknown else FINAL_CATEGORIES
    skip = frozenset(
        number for number, row in latest.items() if row.category in final and not row.is_invalid
    )
    return ResumePlan(latest, interrupted, skip)
