"""``mm7 send --csv FILE`` / ``--jsonl FILE``: one MMS per row, paced, shown, resumable.

The rows, result rows and the resume decision are the sans-IO :mod:`mm7client.bulk`; this
module drives :meth:`MM7Client.submit_many` with them and shows progress
(:mod:`mm7client.cli.progress`)::

    mm7 send --csv rows.csv --url https://mms.example.net/mm7 --vas-id SVC --kisa-code 123456789 \\
        --tps 50 --out results.csv

What it guarantees, with ``--out``:

* every input row gets exactly one current result line (the last line for its row number): a
  result from the MMSC, ``invalid`` (nothing sent: the error names the row and the column), or
  ``unknown`` (in flight when a run was killed: possibly sent);
* a row is handed to the client only after the journal (``RESULTS.journal``) recorded it, and
  a rerun never sends a row that has a success / failed / unknown result or that the journal
  says was in flight: **at most once**, even after SIGKILL or a crash (``--resend-unknown``
  chooses at least once instead). The journal line reaches the operating system before the
  send; ``--fsync`` also forces it to disk (power loss);
* rows refused for now (``retry``, ``throttled``: nothing was accepted) and invalid rows are
  tried again by a rerun;
* one run per result file: the file is locked, a second run on it is refused;
* Ctrl-C (or SIGTERM) stops taking new rows, lets the ones in flight end and writes them; a
  second Ctrl-C abandons those still in flight (they stay in the journal: possibly sent).

Exit status: 0 every row accepted; 1 some row not; 2 unusable input (nothing sent); 130
stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import io
import itertools
import math
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mm7client.bulk import (
    InputFileError,
    InputRow,
    Journal,
    JournalState,
    ResultFileError,
    ResultRow,
    ResultWriter,
    ResumePlan,
    RowDefaults,
    RowError,
    build_request,
    plan_resume,
    read_rows,
)
from mm7client.bulk.results import ResultFormat
from mm7client.bulk.resume import journal_path
from mm7client.bulk.rows import InputFormat
from mm7client.cli.options import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    IDENTITY_OPTIONS,
    client_options,
)
from mm7client.cli.progress import (
    BulkProgress,
    Display,
    LiveDisplay,
    PlainDisplay,
    rich_available,
    run_display,
    vas_views,
)
from mm7client.profiles import get_profile

if TYPE_CHECKING:
    from mm7client.client import MM7Client, SubmitManyItem
    from mm7client.model import SubmitRequest

__all__ = ["run_bulk"]

#: Bad rows reported one by one on stderr; the rest only in the result file and the counts.
MAX_BAD_ROWS_SHOWN = 20
#: Images kept in memory across rows (rows often share one).
IMAGE_CACHE_SIZE = 64


class InputMismatchError(ValueError):
    """The result file belongs to other input: a row's recipient differs."""


class _StdoutResults:
    """Result lines on stdout (no ``--out``: nothing to resume from)."""

    def __init__(self, fmt: ResultFormat) -> None:
        from mm7client.bulk import RESULT_COLUMNS

        self.format = fmt
        if fmt == "csv":
            self._emit(",".join(RESULT_COLUMNS) + "\n")

    def _emit(self, line: str) -> None:
        sys.stdout.write(line)
        sys.stdout.flush()

    def write(self, row: ResultRow) -> None:
        self._emit(row.to_line(self.format))

    def close(self) -> None:
        sys.stdout.flush()


def _open_input(name: str, encoding: str) -> tuple[TextIO, Path, str]:
    """The text stream, the folder image paths are relative to, and a name for messages."""
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding=encoding, newline=""), Path.cwd(), "-"
    path = Path(name)
    return open(path, encoding=encoding, newline=""), path.parent, name


class BulkSend:
    """One run of a bulk send: the input, the result file, the journal and the counts."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.format: InputFormat = "csv" if args.csv is not None else "jsonl"
        self.input_name: str = args.csv if args.csv is not None else args.jsonl
        self.profile = get_profile(args.profile)
        self.plan = ResumePlan({}, [], frozenset())
        self.total: int | None = None
        self.stop = asyncio.Event()
        self.stopped_by_signal = False
        # submit_many numbers the requests it pulls 0, 1, 2...: that index -> (row, line, to)
        self.index: dict[int, tuple[int, int, str]] = {}
        self.next_index = itertools.count()
        self.bad_shown = 0
        self.display: Display = PlainDisplay(0, interval=math.inf)
        self.progress = BulkProgress(None, time.monotonic())
        self.writer: ResultWriter | _StdoutResults | None = None
        self.journal: Journal | None = None
        base = Path.cwd()
        hints = {
            column: f"a {column} column, {option} or {env}"
            for column, option, env in IDENTITY_OPTIONS.values()
        }
        self.defaults = RowDefaults(
            subject=args.subject,
            text=args.text,
            images=tuple(str((base / name).resolve()) for name in args.image),
            vasp_id=args.vasp_id,
            vas_id=args.vas_id,
            callback=args.callback,
            kisa_code=args.kisa_code,
            delivery_report=not args.no_report,
            hints=hints,
        )
        self.read_image = functools.lru_cache(maxsize=IMAGE_CACHE_SIZE)(Path.read_bytes)

    # -- before sending ------------------------------------------------------------------

    def prepare(self) -> None:
        """Read the result file and journal, check the input against them, open the writers.

        Raises (nothing sent yet): InputFileError, ResultFileError, InputMismatchError,
        OSError, UnicodeDecodeError.
        """
        args = self.args
        if args.file:
            raise InputFileError("--file is not supported with --csv / --jsonl (use --image)")
        if args.concurrency < 1:
            raise InputFileError(f"--concurrency {args.concurrency}: must be at least 1")
        if args.to:
            raise InputFileError("--to is not used with --csv / --jsonl: rows name recipients")
        if args.out:
            # locked first: a second run on the same file must not read a plan and send too
            self.writer = ResultWriter(args.out, fsync=args.fsync)
            state = JournalState.read(journal_path(args.out))
            rows = self.writer.log.rows
            self.plan = plan_resume(rows, state, resend_unknown=args.resend_unknown)
        if self.input_name != "-":
            # a first pass: the total for the ETA, and the same input as the result file's
            stream, _, name = _open_input(self.input_name, args.encoding)
            with stream:
                count = 0
                for item in read_rows(stream, self.format, source=name):
                    count += 1
                    self._check_same(item)
            self.total = count
        self.progress = BulkProgress(self.total, time.monotonic())
        if isinstance(self.writer, ResultWriter):
            for row in self.plan.interrupted:
                self.writer.write(row)
            self.journal = Journal(journal_path(args.out), self.writer.size, fsync=args.fsync)
            self._say_resume(self.writer.log.rows != [])
        else:
            self.writer = _StdoutResults("jsonl" if args.json else "csv")

    def _say_resume(self, resuming: bool) -> None:
        if not resuming:
            return
        plan = self.plan
        again = len(plan.latest) - len(plan.skip)
        text = (
            f"resuming {self.args.out}: {len(plan.skip)} row(s) already final, not sent again; "
            f"{again} refused or invalid row(s) tried again"
        )
        if plan.interrupted:
            rows = ", ".join(str(r.row) for r in plan.interrupted[:10])
            more = ", ..." if len(plan.interrupted) > 10 else ""
            verb = "sent again" if self.args.resend_unknown else "not sent again"
            text += (
                f"; {len(plan.interrupted)} row(s) were in flight when the last run stopped "
                f"(rows {rows}{more}): marked unknown, possibly sent, {verb}"
            )
        sys.stderr.write(f"mm7 send: {text}\n")

    def _check_same(self, item: InputRow | RowError) -> None:
        previous = self.plan.latest.get(item.number)
        to = ";".join(item.to)
        if previous is not None and previous.to and to and previous.to != to:
            raise InputMismatchError(
                f"row {item.number}: the input says {to!r} but {self.args.out} has a result "
                f"for {previous.to!r}: not the same input (give another --out, or the input "
                "this result file was made from)"
            )

    # -- sending ---------------------------------------------------------------------------

    def _rows(self) -> Iterator[InputRow | RowError]:
        stream, base_dir, name = _open_input(self.input_name, self.args.encoding)
        self.defaults = dataclasses.replace(self.defaults, base_dir=base_dir)
        with stream:
            yield from read_rows(stream, self.format, source=name)

    async def _requests(self) -> AsyncIterator[SubmitRequest]:
        for item in self._rows():
            if self.stop.is_set():
                return
            if self.total is None:
                self._check_same(item)
            previous = self.plan.latest.get(item.number)
            if previous is not None and item.number in self.plan.skip:
                self.progress.add_earlier(previous.category, invalid=previous.is_invalid)
                continue
            if isinstance(item, RowError):
                self._invalid(item)
                continue
            try:
                request = build_request(
                    item, self.defaults, self.profile, read_file=self.read_image
                )
            except RowError as exc:
                self._invalid(exc)
                continue
            to = ";".join(item.to)
            if self.journal is not None:
                self.journal.sending(item.number, to)
            self.index[next(self.next_index)] = (item.number, item.line, to)
            self.progress.sending()
            yield request

    def _invalid(self, error: RowError, *, sent: bool = False) -> None:
        row = ResultRow.invalid(error, vas_id=self.defaults.vas_id)
        previous = self.plan.latest.get(error.number)
        assert self.writer is not None
        if not (previous is not None and previous.is_invalid and previous.detail == row.detail):
            self.writer.write(row)
        self.progress.finished("failed", time.monotonic(), invalid=True, sent=sent)
        if self.bad_shown < MAX_BAD_ROWS_SHOWN:
            self.display.note(str(error))
        elif self.bad_shown == MAX_BAD_ROWS_SHOWN:
            self.display.note("more bad rows: see the result file (originResult 'invalid')")
        self.bad_shown += 1

    def _finished(self, item: SubmitManyItem) -> None:
        number, line, to = self.index.pop(item.index)
        if self.journal is not None:
            self.journal.done(number)
        if item.result is None:
            error = item.error
            field = error.field if error is not None else "(row)"
            reason = f"{error.value!r}: {error.reason}" if error is not None else "not sent"
            self._invalid(RowError(number, line, field, reason, to=(to,)), sent=True)
            return
        row = ResultRow.of(number, to, item.result)
        assert self.writer is not None
        self.writer.write(row)
        self.progress.finished(row.category, time.monotonic())

    async def _drive(self, client: MM7Client) -> None:
        async for item in client.submit_many(self._requests(), concurrency=self.args.concurrency):
            self._finished(item)

    def _make_display(self, client: MM7Client) -> Display:
        mode = self.args.progress
        resends = client.retry.max_throttled_resends
        if mode == "auto":
            mode = "live" if sys.stderr.isatty() else "plain"
        if mode == "live" and not rich_available():
            sys.stderr.write(
                "mm7 send: a live display needs rich (pip install 'mm7toolkit[cli]'); "
                "showing plain progress lines\n"
            )
            mode = "plain"
        if mode == "live":
            return LiveDisplay(resends)
        interval = self.args.progress_interval if mode == "plain" else math.inf
        return PlainDisplay(resends, interval=interval)

    async def send(self, url: str) -> None:
        """Send every row to ``url``; returns when done, stopped, or abandoned."""
        from mm7client.client import MM7Client

        options = client_options(self.args)
        async with MM7Client(url, concurrency=self.args.concurrency, **options) as client:
            self.display = self._make_display(client)
            shown = asyncio.ensure_future(run_display(self.display, self.progress, client))
            sending = asyncio.ensure_future(self._drive(client))
            loop = asyncio.get_running_loop()

            def on_signal() -> None:
                if not self.stop.is_set():
                    self.stop.set()
                    self.stopped_by_signal = True
                    self.display.note(
                        f"stopping: no new rows; waiting for the {self.progress.in_flight} in "
                        "flight to end (Ctrl-C again to abandon them)"
                    )
                else:
                    self.display.note(
                        f"abandoning {self.progress.in_flight} row(s) in flight: a rerun marks "
                        "them unknown (possibly sent)"
                    )
                    sending.cancel()

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal)
            try:
                with suppress(asyncio.CancelledError):
                    await sending
            finally:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)
                shown.cancel()
                with suppress(asyncio.CancelledError):
                    await shown
                self.display.close(self.progress, vas_views(client), time.monotonic())

    def close(self) -> None:
        """Close the result file and the journal (removed when nothing is in flight)."""
        if self.journal is not None:
            self.journal.close()
        if self.writer is not None:
            self.writer.close()

    def summary(self) -> tuple[int, str]:
        """The exit status and the closing line."""
        progress = self.progress
        now = time.monotonic()
        elapsed = now - progress.started
        total = f"/{self.total}" if self.total is not None else ""
        sent_now = progress.done - progress.earlier
        text = (
            f"{progress.done}{total} rows done in {elapsed:.1f} s "
            f"({sent_now / elapsed if elapsed > 0 else 0:.1f}/s): {progress.counts_text()}"
        )
        if progress.earlier:
            text += f" ({progress.earlier} from an earlier run)"
        if self.args.out:
            text += f"; results in {self.args.out}"
        if self.stopped_by_signal or (self.total is not None and progress.done < self.total):
            again = " (rerun the same command to resume)" if self.args.out else ""
            return EXIT_INTERRUPTED, f"stopped: {text}{again}"
        if progress.all_succeeded:
            return EXIT_OK, text
        return EXIT_FAILED, text


async def _send_embedded(job: BulkSend) -> None:
    from mm7client.cli.embedded import load_embedded_mmsc

    embedded_mmsc = load_embedded_mmsc()
    async with embedded_mmsc(profile=job.args.profile, report_url=None) as mock:
        await job.send(mock.url)


def run_bulk(args: argparse.Namespace) -> int:
    """Run a bulk send from the parsed ``mm7 send`` arguments; returns the exit status."""
    from mm7client.cli.embedded import EmbeddedMMSCError

    job = BulkSend(args)
    try:
        job.prepare()
        asyncio.run(_send_embedded(job) if not args.url else job.send(args.url))
    except UnicodeDecodeError as exc:
        sys.stderr.write(
            f"mm7 send: {job.input_name}: not {args.encoding} text ({exc.reason} at byte "
            f"{exc.start}): give the file's encoding with --encoding, e.g. cp949\n"
        )
        return EXIT_INVALID
    except (
        InputFileError,
        ResultFileError,
        InputMismatchError,
        EmbeddedMMSCError,
        OSError,
    ) as exc:
        sys.stderr.write(f"mm7 send: {exc}\n")
        return EXIT_INVALID
    except KeyboardInterrupt:  # while reading the input, before any row was sent
        sys.stderr.write("mm7 send: stopped before sending\n")
        return EXIT_INTERRUPTED
    finally:
        job.close()
    status, text = job.summary()
    sys.stderr.write(f"mm7 send: {text}\n")
    return status
