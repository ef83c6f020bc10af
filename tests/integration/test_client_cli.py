"""``mm7 send``: embedded mock + receiver by default, or a given MMSC URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from mm7client.cli import main
from mm7client.codes import COLUMNS
from mockmmsc import MockSettings, SyncMockMMSC

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def test_send_without_url_uses_the_embedded_mock_and_prints_the_report(capsys) -> None:
    status = main(["send", "--to", "01012345678", "--subject", "안녕하세요", "--text", "본문"])
    out = capsys.readouterr().out
    assert status == 0
    assert "success [1000 Success]" in out
    assert "메시지가 성공적으로 처리 되었음" in out
    assert "[Retrieved OK]" in out
    assert "수신 성공" in out


def test_send_json_has_the_seed_columns_and_the_correlated_report(capsys, tmp_path) -> None:
    image = tmp_path / "logo.jpg"
    image.write_bytes(JPEG)
    status = main(
        ["send", "--to", "01088880001", "--text", "사진", "--image", str(image), "--json"]
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(COLUMNS[:6]) <= set(data)
    assert data["originResult"] == "1000"
    assert data["convertResult"] == 99
    assert data["attempts"] == 1
    assert data["messageId"]
    [report] = data["report"]
    assert report["messageId"] == data["messageId"]
    assert report["originResult"] == "Retrieved"
    assert report["convertResult"] == -100
    assert datetime.fromisoformat(report["timestamp"]).utcoffset() is not None  # the MMSC's
    assert report["timestampRaw"] is None  # ISO 8601: nothing else to keep


@pytest.mark.parametrize(
    ("number", "expected_status", "text"),
    [
        ("01099992002", 1, "failed [2002 Address Error]"),
        ("01088880004", 1, "[Rejected NOK]"),
        ("01088880002", 1, "스팸 차단"),
    ],
)
def test_send_exits_non_zero_on_a_final_failure(capsys, number, expected_status, text) -> None:
    status = main(["send", "--to", number, "--text", "x"])
    out = capsys.readouterr().out
    assert status == expected_status
    assert text in out


def test_send_with_several_recipients_sends_one_message_each_under_lgt(capsys) -> None:
    status = main(["send", "--to", "01012345678", "--to", "01087654321", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [item["to"] for item in data] == [["01012345678"], ["01087654321"]]
    assert all(item["report"] for item in data)


def test_send_refuses_invalid_input_before_sending(capsys) -> None:
    status = main(["send", "--to", "01012345678", "--subject", "가" * 30])
    assert status == 2
    assert "over the limit" in capsys.readouterr().err
    assert main(["send", "--to", "01012345678", "--image", "/nonexistent/x.jpg"]) == 2


def test_send_no_report_does_not_wait(capsys) -> None:
    status = main(["send", "--to", "01012345678", "--text", "x", "--no-report", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["report"] is None


@pytest.fixture
def external_mock() -> Iterator[SyncMockMMSC]:
    """A mock MMSC on its own thread (the command runs its own event loop)."""
    settings = MockSettings(host="127.0.0.1", port=0, time_scale=0.01, basic_auth=("cp", "pw"))
    with SyncMockMMSC(settings) as mock:
        yield mock


def test_send_to_a_url_with_credentials_from_the_environment(
    capsys, monkeypatch, external_mock: SyncMockMMSC, tmp_path: Path
) -> None:
    monkeypatch.setenv("MM7_URL", external_mock.url)
    monkeypatch.setenv("MM7_VASP_ID", "ENVVASP")
    monkeypatch.setenv("MM7_VAS_ID", "ENVVAS")
    monkeypatch.setenv("MM7_KISA_CODE", "987654321")
    monkeypatch.setenv("MM7_CALLBACK", "0212345678")
    monkeypatch.setenv("MM7_USER", "cp")
    monkeypatch.setenv("MM7_PASSWORD", "pw")
    note = tmp_path / "note.txt"
    note.write_text("첨부", encoding="utf-8")
    status = main(["send", "--to", "01012345678", "--text", "본문", "--file", str(note), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["vasId"] == "ENVVAS"
    assert data["report"] is None  # reports go to the report URL registered at the MMSC
    [received] = external_mock.received(operation="SubmitReq")
    assert received.vas_id == "ENVVAS"
    assert received.request.kisa_orig_code == "987654321"
    assert received.request.vasp_id == "ENVVASP"
    assert [p.content_type for p in received.request.content if not p.is_smil] == [
        "text/plain",
        "text/plain",
    ]
    assert "pw" not in json.dumps(data)


def test_send_to_a_url_with_wrong_credentials_fails(capsys, external_mock: SyncMockMMSC) -> None:
    status = main(
        [
            "send",
            "--url",
            external_mock.url,
            "--to",
            "01012345678",
            "--vasp-id",
            "V",
            "--vas-id",
            "V1",
            "--kisa-code",
            "123456789",
            "--user",
            "cp",
            "--password",
            "wrong",
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "HTTP 401" in out
    assert "attempts 1" in out  # a 401 is final, not retried
