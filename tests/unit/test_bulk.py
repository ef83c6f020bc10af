"""The sans-IO bulk module: rows, requests, result rows, the journal and the resume decision."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mm7client.bulk import (
    RESULT_COLUMNS,
    InputFileError,
    InputRow,
    Journal,
    JournalState,
    ResultFileError,
    ResultRow,
    ResultWriter,
    RowDefaults,
    RowError,
    build_request,
    plan_resume,
    read_results,
    read_rows,
)
from mm7client.bulk.resume import journal_path
from mm7client.codes import Category, normalize_submit_status
from mm7client.profiles import LGT

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
SHARED = RowDefaults(vasp_id="VASP", vas_id="SVC", kisa_code="123456789", callback="15881234")


def rows_of(text: str, fmt: str = "csv") -> list[InputRow | RowError]:
    return list(read_rows(io.StringIO(text), fmt))  # type: ignore[arg-type]


# -- reading rows ----------------------------------------------------------------------------


def test_csv_rows_are_numbered_from_the_first_record_with_their_line() -> None:
    text = (
        "To,Subject,text,image,image,vas-id\n"
        "01012345678,안녕,본문,a.jpg,b.jpg;c.jpg,\n"
        "\n"
        '01087654321,"두 줄\n제목",,,,SVC2\n'
        "01011112222\n"
    )
    first, second, third = rows_of(text)
    assert first == InputRow(
        number=1,
        line=2,
        to=("01012345678",),
        subject="안녕",
        text="본문",
        images=("a.jpg", "b.jpg", "c.jpg"),
    )
    assert isinstance(second, InputRow)
    assert (second.number, second.line, second.vas_id) == (2, 4, "SVC2")
    assert second.subject == "두 줄\n제목"
    assert isinstance(third, InputRow)
    assert (third.number, third.line, third.to, third.text) == (3, 6, ("01011112222",), None)


def test_csv_header_problems_stop_everything_naming_the_column() -> None:
    with pytest.raises(InputFileError, match="unknown column 'recipient'"):
        rows_of("recipient,text\n010,x\n")
    with pytest.raises(InputFileError, match="no 'to' column"):
        rows_of("subject,text\nx,y\n")
    with pytest.raises(InputFileError, match="'to' appears twice"):
        rows_of("to,to\n1,2\n")
    with pytest.raises(InputFileError, match="empty input"):
        rows_of("\n\n")


def test_a_csv_row_with_too_many_fields_is_an_error_not_a_drop() -> None:
    [bad, good] = rows_of("to,text\n01012345678,a,b\n01012345678,ok\n")
    assert isinstance(bad, RowError)
    assert str(bad).startswith("row 1 (line 2): (row): 3 fields but the header has 2")
    assert isinstance(good, InputRow) and good.number == 2


def test_jsonl_rows_accept_lists_and_name_the_field_at_fault() -> None:
    text = "\n".join(
        [
            json.dumps({"to": "01012345678", "image": ["a.jpg", "b.jpg"], "kisa_code": "1"}),
            "",
            "{not json",
            json.dumps({"to": 1012345678}),
            json.dumps({"to": "01012345678", "colour": "red"}),
            json.dumps(["01012345678"]),
            json.dumps({"to": ["010", "011"], "subject": ["a"]}),
        ]
    )
    good, *errors = rows_of(text, "jsonl")
    assert isinstance(good, InputRow)
    assert (good.number, good.line, good.images, good.kisa_code) == (
        1,
        1,
        ("a.jpg", "b.jpg"),
        "1",
    )
    assert [(e.number, e.line, e.field) for e in errors if isinstance(e, RowError)] == [
        (2, 3, "(json)"),
        (3, 4, "to"),
        (4, 5, "colour"),
        (5, 6, "(json)"),
        (6, 7, "subject"),
    ]
    assert "leading zeros" in str(errors[1])


# -- building requests -----------------------------------------------------------------------


def test_a_row_becomes_a_request_with_shared_values_filled_in(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(JPEG)
    row = InputRow(number=1, line=2, to=("01012345678",), images=("a.jpg",), vas_id="ROWVAS")
    defaults = RowDefaults(
        subject="공지",
        text="본문",
        vasp_id="VASP",
        vas_id="SVC",
        kisa_code="123456789",
        base_dir=tmp_path,
    )
    request = build_request(row, defaults, LGT)
    assert [a.value for a in request.to] == ["01012345678"]
    assert request.subject == "공지"
    assert request.vas_id == "ROWVAS"
    assert request.vasp_id == "VASP"
    assert request.kisa_orig_code == "123456789"
    assert request.delivery_report is True
    assert [(p.content_type, p.filename) for p in request.content] == [
        ("text/plain", None),
        ("image/jpeg", "a.jpg"),
    ]
    assert request.content[1].data == JPEG


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (InputRow(number=4, line=5), "row 4 (line 5): to: missing"),
        (InputRow(number=1, line=2, to=("01012x",)), "row 1 (line 2): to: '01012x': not a valid"),
        (
            InputRow(number=1, line=2, to=("01012345678",), kisa_code="12345"),
            "kisa_code: '12345': must be exactly 9 digits",
        ),
        (
            InputRow(number=1, line=2, to=("01012345678",), subject="가" * 30),
            "subject: '" + "가" * 30 + "': ",
        ),
        (
            InputRow(number=1, line=2, to=("01012345678", "01087654321")),
            "to: ['01012345678', '01087654321']: profile 'lgt' allows 1 recipient(s)",
        ),
        (
            InputRow(number=1, line=2, to=("01012345678",), images=("missing.jpg",)),
            "image: cannot read",
        ),
        (
            InputRow(number=1, line=2, to=("01012345678",), text="😀"),
            "text: '😀'",
        ),
    ],
)
def test_bad_rows_name_the_row_the_line_and_the_column(
    row: InputRow, expected: str, tmp_path: Path
) -> None:
    defaults = RowDefaults(vas_id="SVC", kisa_code="123456789", base_dir=tmp_path)
    with pytest.raises(RowError) as caught:
        build_request(row, defaults, LGT)
    assert expected in str(caught.value)
    assert caught.value.to == row.to


def test_a_missing_identity_says_where_it_can_come_from() -> None:
    defaults = RowDefaults(
        kisa_code="123456789", hints={"vas_id": "a vas_id column, --vas-id or MM7_VAS_ID"}
    )
    row = InputRow(number=2, line=3, to=("01012345678",))
    with pytest.raises(RowError) as caught:
        build_request(row, defaults, LGT)
    assert str(caught.value) == (
        "row 2 (line 3): vas_id: missing: required by profile 'lgt' "
        "(give a vas_id column, --vas-id or MM7_VAS_ID)"
    )


# -- result rows and files -------------------------------------------------------------------


class _Result:
    """The attributes of a SubmitResult that a result row reads."""

    def __init__(self, code: int, message_id: str | None = None, attempts: int = 1) -> None:
        self.normalized = normalize_submit_status(code)
        self.message_id = message_id
        self.attempts = attempts
        self.vas_id = "SVC"
        self.ambiguous = False


def _row(number: int, code: int = 1000) -> ResultRow:
    return ResultRow.of(number, "0101234567" + str(number % 10), _Result(code, f"M{number}"))  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_result_rows_round_trip_through_both_formats(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"results{suffix}"
    invalid = ResultRow.invalid(RowError(3, 4, "kisa_code", "must be\nexactly 9 digits"))
    rows = [_row(1), _row(2, 4030), invalid, ResultRow.interrupted(5, "01055555555")]
    with ResultWriter(path) as writer:
        for row in rows:
            writer.write(row)
    log = read_results(path)
    assert [row for _, row in log.rows] == [
        *rows[:2],
        ResultRow.invalid(RowError(3, 4, "kisa_code", "must be exactly 9 digits")),
        rows[3],
    ]
    assert log.end == log.size == path.stat().st_size
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if suffix == ".csv":
        assert first == ",".join(RESULT_COLUMNS)
    else:
        assert tuple(json.loads(first)) == RESULT_COLUMNS
    assert rows[1].category == "throttled"
    assert (invalid.category, invalid.attempts, invalid.provider) == ("failed", 0, "INPUT")
    assert (rows[3].category, rows[3].origin_result, rows[3].convert_result) == (
        "unknown",
        "ambiguous",
        3906,
    )


def test_a_partial_last_line_is_ignored_and_cut_off_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    with ResultWriter(path) as writer:
        writer.write(_row(1))
    complete = path.stat().st_size
    with open(path, "ab") as handle:
        handle.write(b"2,0101234")  # a writer killed mid-line
    log = read_results(path)
    assert [row.row for _, row in log.rows] == [1]
    assert (log.end, log.size) == (complete, complete + 9)
    with ResultWriter(path) as writer:
        assert writer.log == log
        writer.write(_row(2))
    assert [row.row for _, row in read_results(path).rows] == [1, 2]


def test_one_result_file_takes_one_run_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    with ResultWriter(path), pytest.raises(ResultFileError, match="in use by another run"):
        ResultWriter(path)
    with ResultWriter(path) as writer:  # the lock ends with the writer
        writer.write(_row(1))


def test_a_file_that_is_not_a_result_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "rows.csv"
    other.write_text("to,text\n01012345678,x\n", encoding="utf-8")
    with pytest.raises(ResultFileError, match="not a result file"):
        read_results(other)
    broken = tmp_path / "results.jsonl"
    broken.write_text('{"row": 1}\n', encoding="utf-8")
    with pytest.raises(ResultFileError, match="line 1 is not a result row: missing to"):
        read_results(broken)
    with pytest.raises(ResultFileError, match=r"\.csv or \.jsonl"):
        ResultWriter(tmp_path / "results.txt")


# -- journal and resume ----------------------------------------------------------------------


def test_journal_records_rows_before_sending_and_goes_away_when_none_is_in_flight(
    tmp_path: Path,
) -> None:
    path = journal_path(tmp_path / "results.csv")
    assert path.name == "results.csv.journal"
    journal = Journal(path, out_size=123)
    journal.sending(1, "01011111111")
    journal.sending(2, "01022222222")
    state = JournalState.read(path)
    assert state == JournalState(123, {1: "01011111111", 2: "01022222222"})
    journal.done(1)
    journal.close()
    assert path.exists()  # row 2 is still in flight: kept for the next run
    journal = Journal(path, out_size=456)
    assert JournalState.read(path) == JournalState(456, {})
    journal.close()
    assert not path.exists()


def test_plan_resume_skips_final_rows_and_resends_refused_and_invalid_ones() -> None:
    invalid = ResultRow.invalid(RowError(4, 5, "to", "missing"))
    rows = [(0, _row(1)), (10, _row(2, 2002)), (20, _row(3, 7103)), (30, invalid)]
    rows += [(40, _row(5, 4006)), (50, _row(5, 1000))]  # row 5 retried later: last line wins
    plan = plan_resume(rows, None)
    assert plan.skip == {1, 2, 5}
    assert plan.interrupted == []
    assert plan.latest[3].category == "throttled"
    assert plan.latest[5].category == "success"


def test_plan_resume_marks_rows_in_flight_at_a_kill_as_possibly_sent() -> None:
    rows = [(0, _row(1)), (10, _row(2, 4006)), (100, _row(3)), (110, _row(2))]
    # the killed run started at offset 100 and handed rows 2, 3 and 4 to the client
    journal = JournalState(100, {2: "01012345672", 3: "01012345673", 4: "01012345674"})
    plan = plan_resume(rows, journal)
    assert [row.row for row in plan.interrupted] == [4]
    assert plan.interrupted[0].category == Category.UNKNOWN
    assert plan.skip == {1, 2, 3, 4}
    # a result line older than the journal does not resolve a row of the killed run
    plan = plan_resume([(0, _row(1)), (10, _row(2, 4006))], JournalState(100, {2: "x"}))
    assert [row.row for row in plan.interrupted] == [2]
    assert 2 in plan.skip
    # at least once, on request
    again = plan_resume(rows, journal, resend_unknown=True)
    assert again.skip == {1, 2, 3}


def test_with_fsync_every_line_is_forced_to_disk_and_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    with ResultWriter(out, fsync=True) as writer:
        writer.write(_row(1))
    journal = Journal(journal_path(out), out_size=out.stat().st_size, fsync=True)
    journal.sending(2, "01012345672")
    journal.close()
    assert [row.row for _, row in read_results(out).rows] == [1]
    assert JournalState.read(journal_path(out)) == JournalState(
        out.stat().st_size, {2: "01012345672"}
    )


def test_the_bulk_core_loads_no_http_stack() -> None:
    import subprocess
    import sys

    code = "import sys, mm7client.bulk; print('aiohttp' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
