"""``mm7 codes``: the sub-command registered through ``add_parser``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from mm7client.cli import codes as cli_codes


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mm7")
    subparsers = parser.add_subparsers(dest="command", required=True)
    cli_codes.add_parser(subparsers)
    args = parser.parse_args(["codes", *argv])
    result: int = args.func(args)
    return result


def test_lgt_code_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["4030"]) == 0
    out = capsys.readouterr().out
    assert "4030 [LGT submit ack]" in out
    assert "convertResult  3020" in out
    assert "resultMessage  System error" in out
    assert "category       throttled (pause 60 s)" in out
    assert "해당 VASID로 문자 전송을 중지하고 1분 이후 재전송" in out


def test_alimtalk_code_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["KKO_3018"]) == 0
    out = capsys.readouterr().out
    assert "KKO_3018 [Alim Talk RESULT_CD1]" in out
    assert "NoSendAvailableException - Message Failed to be sent." in out
    assert "system         Mediator" in out
    assert "outcome        failed" in out


def test_json_uses_seed_column_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["4030", "KKO_3018", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {
        "table": "lgt",
        "provider": "LGT",
        "msgType": 2,
        "resultType": 1,
        "originResult": "4030",
        "convertResult": 3020,
        "resultMessage": "System error",
        "explanation": rows[0]["explanation"],
        "category": "throttled",
        "pauseSeconds": 60.0,
    }
    assert rows[0]["explanation"].startswith("서버 과부하")
    assert rows[1]["table"] == "alimtalk"
    assert rows[1]["code"] == "KKO_3018"
    assert rows[1]["system"] == "Mediator"


def test_report_status_lists_both_retrieved_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["retrieved", "--json", "--table", "lgt"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["resultMessage"], row["category"]) for row in rows] == [
        ("OK", "success"),
        ("NOK", "failed"),
    ]
    assert {row["convertResult"] for row in rows} == {-100}


def test_expired_shows_the_default_3020(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["Expired", "--json"]) == 0
    assert [row["convertResult"] for row in json.loads(capsys.readouterr().out)] == [3020]


def test_ok_matches_two_alimtalk_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["OK", "--table", "alimtalk"]) == 0
    out = capsys.readouterr().out
    assert out.count("[Alim Talk RESULT_CD1]") == 1
    assert out.count("[Alim Talk RESULT_CD2]") == 1


def test_transport_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ambiguous"]) == 0
    out = capsys.readouterr().out
    assert "[TRANSPORT transport failure]" in out
    assert "convertResult  3906" in out


def test_table_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["KKO_3018", "--table", "lgt"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no LGT row for 'KKO_3018'" in captured.err


def test_unknown_code_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["4030", "nope"]) == 1
    captured = capsys.readouterr()
    assert "4030" in captured.out
    assert "'nope'" in captured.err


def test_unknown_code_json_prints_empty_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["nope", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == []


def test_mapping_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "provider,msgType,resultType,originResult,convertResult,resultMessage,category\n"
        "LGT,2,2,Expired,3050,NOK,failed\n"
        "SKT,2,1,8001,3333,Carrier busy,retry\n",
        encoding="utf-8",
    )
    assert run(["Expired", "8001", "--json", "--mapping", str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["provider"], row["convertResult"]) for row in rows] == [
        ("LGT", 3050),
        ("SKT", 3333),
    ]


def test_bad_mapping_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["4030", "--mapping", str(tmp_path / "missing.csv")]) == 2
    assert "cannot load mapping" in capsys.readouterr().err


def test_requires_a_code() -> None:
    with pytest.raises(SystemExit):
        run([])


def test_module_main(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_codes.main(["6014", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["convertResult"] == 2040
