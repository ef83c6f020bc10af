"""Bulk sending, sans-IO: rows in, SubmitRequests out, one result row per input row, resumable.

What ``mm7 send --csv/--jsonl`` is made of, apart from the network and the terminal:

* :mod:`~mm7client.bulk.rows`: read message rows from CSV or JSONL (:func:`read_rows`) and
  turn each into a validated :class:`~mm7client.model.SubmitRequest` (:func:`build_request`);
  a bad row becomes a :class:`RowError` naming the row, the line and the field.
* :mod:`~mm7client.bulk.results`: the result row (the seed's columns plus the row number,
  recipient, MessageID, category and attempts), streamed to CSV or JSONL and read back.
* :mod:`~mm7client.bulk.resume`: the journal of rows being sent and the pure decision of which
  rows a rerun skips, so a crash or Ctrl-C never sends a row twice.

Nothing here opens a socket or needs an event loop; the command layer drives the client.
"""

from __future__ import annotations

from mm7client.bulk.results import (
    RESULT_COLUMNS,
    ResultFileError,
    ResultRow,
    ResultWriter,
    read_results,
)
from mm7client.bulk.resume import Journal, JournalState, ResumePlan, plan_resume
from mm7client.bulk.rows import (
    COLUMNS,
    InputFileError,
    InputRow,
    RowDefaults,
    RowError,
    build_request,
    read_rows,
)

__all__ = [
    "COLUMNS",
    "RESULT_COLUMNS",
    "InputFileError",
    "InputRow",
    "Journal",
    "JournalState",
    "ResultFileError",
    "ResultRow",
    "ResultWriter",
    "ResumePlan",
    "RowDefaults",
    "RowError",
    "build_request",
    "plan_resume",
    "read_results",
    "read_rows",
]
