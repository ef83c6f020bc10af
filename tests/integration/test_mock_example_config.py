"""``mockmmsc example-config`` prints a config file that the real loader takes and whose mock
behaves as its comments say: accounts, passwords, expiry, TPS contracts, report URLs, rules
and faults."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from mm7client import Part, SubmitRequest, SyncMM7Client
from mm7client.throttle import FakeClock, RetryPolicy
from mockmmsc import MockSettings, SyncMockMMSC
from mockmmsc.cli import example_config
from mockmmsc.settings import load_config

ONCE = RetryPolicy(max_attempts=1, max_throttled_resends=0)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@pytest.fixture(scope="module")
def example_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    printed = subprocess.run(
        [sys.executable, "-m", "mockmmsc", "example-config"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert printed == example_config()
    path = tmp_path_factory.mktemp("config") / "mock.toml"
    path.write_text(printed, "utf-8")
    return path


def test_the_example_names_every_setting(example_file: Path) -> None:
    text = example_file.read_text("utf-8")
    missing = [
        f.name
        for f in fields(MockSettings)
        if not re.search(rf"^(# )?(\[+)?{f.name}\b", text, re.MULTILINE)
    ]
    assert missing == [], f"settings missing from mockmmsc/example-config.toml: {missing}"


def test_the_example_loads_with_the_documented_values(example_file: Path) -> None:
    settings = load_config(example_file)
    assert (settings.host, settings.port, settings.time_scale) == ("127.0.0.1", 8080, 1.0)
    assert settings.default_tps == 10.0 and settings.profile == "lgt"
    assert sorted(settings.accounts or {}) == ["MYSERVICE", "OLDSERVICE", "OPENSERVICE"]
    assert settings.accounts["OLDSERVICE"].expired()
    assert len(settings.rules) == 2 and len(settings.faults) == 1


@pytest.fixture
def example_mock(example_file: Path) -> Iterator[SyncMockMMSC]:
    """The example's mock on a free port, its windows and contracts on a clock that stands
    still (a burst is a burst, a window stays open)."""
    settings = load_config(example_file).replace(port=0)
    with SyncMockMMSC(settings, clock=FakeClock()) as mock:
        yield mock


def submit(
    mock: SyncMockMMSC,
    vas_id: str,
    password: str | None = None,
    *,
    to: str = "01012345678",
    image: bool = False,
) -> str:
    """One SubmitReq (no resend) of ``vas_id``; its StatusCode."""
    content = [Part.from_text("본문")] + ([Part.jpeg(JPEG)] if image else [])
    with SyncMM7Client(
        mock.url,
        vas_id=vas_id,
        kisa_orig_code="123456789",
        username=vas_id if password else None,
        password=password,
        retry=ONCE,
    ) as client:
        result = client.submit(SubmitRequest(to=[to], content=content, delivery_report=False))
    return result.normalized.origin_result


def test_accounts_passwords_and_expiry(example_mock: SyncMockMMSC) -> None:
    assert submit(example_mock, "MYSERVICE", "secret") == "1000"
    assert submit(example_mock, "MYSERVICE", "wrong") == "6024"
    assert submit(example_mock, "NOSUCHSERVICE") == "6024"  # not in [accounts]
    assert submit(example_mock, "OLDSERVICE", "old") == "6025"  # expires_at has passed
    assert submit(example_mock, "OPENSERVICE", "anything") == "1000"


def test_tps_contracts(example_mock: SyncMockMMSC) -> None:
    mine = [submit(example_mock, "MYSERVICE", "secret") for _ in range(6)]
    assert mine == ["1000"] * 5 + ["7103"]  # its own contract: 5 TPS
    others = [submit(example_mock, "OPENSERVICE") for _ in range(11)]
    assert others == ["1000"] * 10 + ["7103"]  # default_tps = 10


def test_report_urls(example_mock: SyncMockMMSC) -> None:
    assert example_mock.report_url_for("MYSERVICE") == "http://127.0.0.1:8081/myservice-reports"
    assert example_mock.report_url_for("OPENSERVICE") == "http://127.0.0.1:8082/open-reports"
    assert example_mock.report_url_for("OLDSERVICE") == "http://127.0.0.1:8081/reports"


def test_rules_and_faults(example_mock: SyncMockMMSC) -> None:
    flaky = [submit(example_mock, "MYSERVICE", "secret", to="01077770001") for _ in range(3)]
    assert flaky == ["4006", "4006", "1000"]
    assert submit(example_mock, "OPENSERVICE", image=True) == "4030"  # opens a 4030 window
    assert submit(example_mock, "OPENSERVICE") == "4030"  # text too, inside the window
    assert submit(example_mock, "MYSERVICE", "secret") == "1000"  # another VASID is not paused
    assert example_mock.requests_during_overload("OPENSERVICE") == 1
    (delay,) = example_mock.call(lambda: list(example_mock.mock.faults))
    assert (delay.kind, delay.delay, delay.vas_id) == ("delay", 0.5, "OPENSERVICE")
    assert delay.hits == 2  # both SubmitReqs of OPENSERVICE (it delays the first 3)
