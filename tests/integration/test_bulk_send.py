"""``mm7 send --csv/--jsonl`` end to end against the real mock over loopback.

The mock runs on its own thread and event loop (the command runs its own); runs that must be
killed or interrupted run the command in a subprocess.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from mm7client.bulk import RESULT_COLUMNS, read_results
from mm7client.cli import main
from mockmmsc import SyncMockMMSC

IDENTITY = ["--vasp-id", "VASP", "--vas-id", "SVC", "--kisa-code", "123456789"]
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def running_mock(**settings: object) -> SyncMockMMSC:
    """A mock MMSC on 127.0.0.1 (free port) served by a background thread."""
    return SyncMockMMSC(host="127.0.0.1", port=0, **settings)


def write_rows(path: Path, count: int, *, start: int = 0) -> list[str]:
    numbers = [f"0105{start + i:07d}" for i in range(count)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["to", "subject", "text"])
        for i, number in enumerate(numbers):
            writer.writerow([number, "공지", f"본문 {i}"])
    return numbers


def submitted(mock: SyncMockMMSC) -> Counter[str]:
    """How many SubmitReqs the mock received per recipient."""
    return Counter(r for m in mock.received(operation="SubmitReq") for r in m.recipients)


def latest(out: Path) -> dict[int, dict[str, str]]:
    """The current result per row (the last line of its row number)."""
    rows: dict[int, dict[str, str]] = {}
    for _, row in read_results(out).rows:
        rows[row.row] = {k: "" if v is None else str(v) for k, v in row.as_dict().items()}
    return rows


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def result_lines(out: Path) -> int:
    return len(read_results(out).rows) if out.exists() else 0


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mm7client.cli", "send", *args]


def test_1000_rows_at_a_contract_of_50_tps_are_all_accepted_without_one_7103(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "results.csv"
    numbers = write_rows(rows, 1000)
    with running_mock(default_tps=50) as mock:
        started = time.monotonic()
        status = main(
            [
                "send",
                "--url",
                mock.url,
                *IDENTITY,
                "--csv",
                str(rows),
                "--out",
                str(out),
                "--tps",
                "50",
                "--no-report",
                "--progress",
                "plain",
            ]
        )
        elapsed = time.monotonic() - started
        received = mock.received(operation="SubmitReq")
        refused = mock.call(lambda: dict(mock.mock.tps.refused))
    err = capsys.readouterr().err
    assert status == 0, err
    assert refused == {}
    assert [m for m in received if m.status_code != 1000] == []
    assert sorted(r for m in received for r in m.recipients) == numbers
    # the contract held: no second-long window holds more than 50 sends (+1 at its edge)
    times = sorted(m.received_at for m in received)
    busiest = max(
        sum(1 for t in times[i : i + 60] if t < first + 1.0) for i, first in enumerate(times)
    )
    assert busiest <= 51, busiest
    assert 1000 / 50 - 1 <= elapsed < 60
    with open(out, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == RESULT_COLUMNS
        result_rows = list(reader)
    assert {r["row"] for r in result_rows} == {str(i) for i in range(1, 1001)}
    assert {(r["provider"], r["originResult"], r["convertResult"]) for r in result_rows} == {
        ("LGT", "1000", "99")
    }
    assert all(r["messageId"] and r["attempts"] == "1" for r in result_rows)
    assert "1000/1000 rows done" in err
    assert "success 1000" in err
    assert not Path(str(out) + ".journal").exists()


def test_a_rerun_after_sigkill_sends_no_row_twice(tmp_path: Path) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "results.jsonl"
    numbers = write_rows(rows, 80)
    with running_mock() as mock:
        mock.add_rule(delay=0.3)  # answers take a while: rows are in flight at the kill
        args = [*IDENTITY, "--url", mock.url, "--csv", str(rows), "--out", str(out)]
        args += ["--tps", "25", "--concurrency", "8", "--no-report", "--progress", "off"]
        process = subprocess.Popen(command(*args), stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: result_lines(out) >= 20, 30, "20 result lines")
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(10)
        assert process.returncode == -signal.SIGKILL
        time.sleep(1.0)  # the mock stores a request when its delayed answer goes out
        before = submitted(mock)
        in_flight_at_kill = [n for n in before if n not in {r["to"] for r in latest(out).values()}]
        status = main(["send", *args])
        after = submitted(mock)
    results = latest(out)
    assert [n for n, count in after.items() if count > 1] == []  # not one row twice
    assert set(results) == set(range(1, 81))
    unknown = {r["to"] for r in results.values() if r["category"] == "unknown"}
    assert unknown  # some were in flight: possibly sent
    assert len(unknown) <= 8
    assert in_flight_at_kill  # rows the MMSC got whose answer the killed process never read
    assert set(in_flight_at_kill) <= unknown  # ... are not sent again
    assert {r["originResult"] for r in results.values() if r["category"] == "unknown"} == {
        "ambiguous"
    }
    accepted = {r["to"] for r in results.values() if r["category"] == "success"}
    assert accepted | unknown == set(numbers)
    assert accepted <= set(after)
    assert status == 1  # the unknown rows are not successes
    assert not Path(str(out) + ".journal").exists()


def test_ctrl_c_lets_rows_in_flight_end_writes_them_and_a_rerun_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "results.csv"
    numbers = write_rows(rows, 50)
    with running_mock() as mock:
        mock.add_rule(delay=0.4)
        args = [*IDENTITY, "--url", mock.url, "--csv", str(rows), "--out", str(out)]
        args += ["--tps", "20", "--concurrency", "6", "--no-report", "--progress", "off"]
        process = subprocess.Popen(command(*args), stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: result_lines(out) >= 6, 30, "6 result lines")
            # a second run on the same result file is refused, not sent in parallel
            assert main(["send", *args]) == 2
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert "is in use by another run (one mm7 send per result file)" in capsys.readouterr().err
        assert process.returncode == 130, err
        assert "stopping: no new rows" in err
        assert "stopped: " in err and "rerun the same command to resume" in err
        results = latest(out)
        sent = submitted(mock)
        # every row the MMSC saw has its result written; nothing was left in flight
        assert set(sent) == {r["to"] for r in results.values()}
        assert {r["category"] for r in results.values()} == {"success"}
        assert len(results) < 50
        assert not Path(str(out) + ".journal").exists()
        status = main(["send", *args])
        after = submitted(mock)
    assert status == 0
    assert sorted(after) == numbers
    assert set(after.values()) == {1}
    assert {r["category"] for r in latest(out).values()} == {"success"}


def test_bad_rows_are_named_counted_and_written_never_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "logo.jpg").write_bytes(JPEG)
    rows, out = tmp_path / "rows.csv", tmp_path / "results.csv"
    rows.write_text(
        "to,subject,image,kisa_code\n"
        "01012345678,좋은 행,logo.jpg,\n"
        ",받는 사람 없음,,\n"
        "01012345679,,,12345\n"
        "01012345670,,missing.jpg,\n"
        "01012345671,a,b,c,d\n"
        "01099992002,거절,,\n",
        encoding="utf-8",
    )
    status = main(["send", "--csv", str(rows), "--out", str(out), "--progress", "off"])
    err = capsys.readouterr().err
    assert status == 1
    assert "row 2 (line 3): to: missing" in err
    assert "row 3 (line 4): kisa_code: '12345': must be exactly 9 digits" in err
    assert "row 4 (line 5): image: cannot read" in err
    assert "row 5 (line 6): (row): 5 fields but the header has 4" in err
    results = latest(out)
    assert sorted(results) == [1, 2, 3, 4, 5, 6]
    assert results[1]["category"] == "success"
    for number in (2, 3, 4, 5):
        assert (results[number]["provider"], results[number]["originResult"]) == (
            "INPUT",
            "invalid",
        )
        assert results[number]["category"] == "failed"
    assert results[3]["to"] == "01012345679"
    assert (results[6]["originResult"], results[6]["category"]) == ("2002", "failed")
    assert "success 1 · failed 5 (invalid 4)" in err
    # a rerun resends nothing that was sent; the invalid rows are checked again
    assert main(["send", "--csv", str(rows), "--out", str(out), "--progress", "off"]) == 1
    assert len(read_results(out).rows) == 6  # same errors: no new lines


def test_jsonl_from_stdin_streams_json_results_to_stdout(tmp_path: Path) -> None:
    lines = [
        json.dumps({"to": "01012345678", "subject": "하나", "text": "본문"}),
        json.dumps({"to": "01012345679", "vas_id": "OTHER"}),
        json.dumps({"to": 1012345670}),
    ]
    done = subprocess.run(
        command("--jsonl", "-", "--json", "--progress", "off"),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    by_row = {r["row"]: r for r in results}
    assert tuple(results[0]) == RESULT_COLUMNS
    assert by_row[1]["category"] == by_row[2]["category"] == "success"
    assert by_row[2]["vasId"] == "OTHER"
    assert by_row[3]["originResult"] == "invalid"
    assert "row 3 (line 3): to: a string expected" in done.stderr


def test_a_result_file_of_other_input_is_refused_before_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "results.csv"
    write_rows(rows, 3)
    assert main(["send", "--csv", str(rows), "--out", str(out), "--progress", "off"]) == 0
    write_rows(rows, 3, start=100)
    capsys.readouterr()
    assert main(["send", "--csv", str(rows), "--out", str(out), "--progress", "off"]) == 2
    assert "not the same input" in capsys.readouterr().err
    assert len(read_results(out).rows) == 3


def test_a_single_send_says_when_it_waits_on_a_4030_pause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_mock(time_scale=0.01) as mock:
        mock.add_rule(recipient="01012345678", status=4030, times=1, then=[{"status": 1000}])
        status = main(
            ["send", "--url", mock.url, *IDENTITY, "--to", "01012345678", "--pause", "0.5"]
        )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "VASID SVC answered 4030 (MMSC overloaded): sending paused" in captured.err
    assert "up to 20 resends per message" in captured.err
    assert "attempts 2" in captured.out


def test_a_missing_identity_names_the_option_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("MM7_"):
            monkeypatch.delenv(name)
    status = main(["send", "--url", "http://127.0.0.1:9/mm7", "--to", "01012345678"])
    assert status == 2
    assert capsys.readouterr().err == (
        "mm7 send: VASID missing: required by profile 'lgt': give --vas-id or set MM7_VAS_ID\n"
    )


def test_the_live_panel_draws_and_ends_with_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.csv"
    write_rows(rows, 3)
    status = main(["send", "--csv", str(rows), "--progress", "live"])
    captured = capsys.readouterr()
    assert status == 0
    assert "3/3 rows (100%)" in captured.err  # the panel's last frame
    assert "MM7DEMO01 sending" in captured.err
    assert "3/3 rows done" in captured.err
    assert captured.out.count("\n") == 4  # CSV header + a result per row on stdout


@pytest.mark.parametrize("resend_unknown", [False, True])
def test_a_row_left_in_flight_by_a_crash_is_sent_again_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], resend_unknown: bool
) -> None:
    rows, out = tmp_path / "rows.csv", tmp_path / "results.csv"
    numbers = write_rows(rows, 3)
    base = ["send", "--csv", str(rows), "--out", str(out), "--progress", "off"]
    assert main(base) == 0
    # as a crashed run leaves them: row 2 journaled (being sent), its result line never written
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(line for line in lines if not line.startswith("2,")), "utf-8")
    header = {"journal": 1, "out_size": out.stat().st_size}
    journal = [json.dumps(header), json.dumps({"row": 2, "to": numbers[1]})]
    Path(str(out) + ".journal").write_text("\n".join(journal) + "\n", "utf-8")
    capsys.readouterr()
    status = main([*base, *(["--resend-unknown"] if resend_unknown else [])])
    err = capsys.readouterr().err
    assert "1 row(s) were in flight when the last run stopped (rows 2)" in err
    results = read_results(out).rows
    row2 = [row for _, row in results if row.row == 2]
    assert row2[0].category == "unknown"
    if resend_unknown:
        assert status == 0
        assert [r.category for r in row2] == ["unknown", "success"]
        assert "marked unknown, possibly sent, sent again" in err
    else:
        assert status == 1
        assert len(row2) == 1
        assert "marked unknown, possibly sent, not sent again" in err
