"""The commands' operations options: ``--version``, and ``-v --log-format json`` giving one JSON
object per request line, from real ``mockmmsc serve`` and ``mm7 receive`` processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mm7client import MM7Client, Part, SubmitRequest
from mm7client.codec import encode
from mm7client.model import Address, DeliveryReportRequest
from mm7client.observability import package_version
from mm7client.profiles import LGT
from mockmmsc.cli import main as mockmmsc_main


def test_mockmmsc_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        mockmmsc_main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"mockmmsc {package_version()}\n"


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    """A server process and the URL it prints on its first line of stdout."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 20.0)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert line.startswith(b"http://"), line
    return process, line.decode().strip()


async def _stop(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """Stop the server; its stderr as JSON objects (every line must be one)."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 20.0)
    return [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]


@pytest.mark.asyncio
async def test_mockmmsc_logs_a_json_line_per_request() -> None:
    process, url = await _start(
        "-m", "mockmmsc", "serve", "--port", "0", "-v", "--log-format", "json"
    )
    try:
        async with MM7Client(
            url, vasp_id="VASP", vas_id="SVC", kisa_orig_code="123456789", callback="15881234"
        ) as client:
            result = await client.submit(
                SubmitRequest(to=["01012345678"], content=[Part.from_text("hi")])
            )
        assert result.ok
    finally:
        lines = await _stop(process)
    requests = [line for line in lines if line["logger"] == "mockmmsc.requests"]
    assert len(requests) == 1, lines
    line = requests[0]
    assert line["operation"] == "SubmitReq" and line["vas_id"] == "SVC"
    assert line["recipient"] == "01012345678" and line["status_code"] == 1000
    assert line["http_status"] == 200 and line["duration_ms"] >= 0
    assert line["transaction_id"] == result.transaction_id
    assert line["level"] == "INFO"
    datetime.fromisoformat(line["time"]).astimezone(UTC)


@pytest.mark.asyncio
async def test_mm7_receive_logs_a_json_line_per_request(tmp_path: Path) -> None:
    store = tmp_path / "reports.sqlite"
    process, url = await _start(
        "-m",
        "mm7client.cli",
        "-v",
        "--log-format",
        "json",
        "receive",
        "--port",
        "0",
        "--store",
        str(store),
    )
    report = DeliveryReportRequest(
        transaction_id="TID-OPS-1",
        message_id="MSG-1",
        recipient=Address("01012345678"),
        sender=Address("15881234"),
        timestamp=datetime.now(UTC).replace(microsecond=0),
        mm_status="Retrieved",
        status_text="OK",
    )
    encoded = encode(report, LGT)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=encoded.body, headers=dict(encoded.headers)) as response,
        ):
            assert response.status == 200
    finally:
        lines = await _stop(process)
    requests = [line for line in lines if line["logger"] == "mm7client.receiver.requests"]
    assert len(requests) == 1, lines
    line = requests[0]
    assert line["operation"] == "DeliveryReportReq" and line["status_code"] == 1000
    assert line["recipient"] == "01012345678" and line["transaction_id"] == "TID-OPS-1"
