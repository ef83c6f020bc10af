"""The pytest plugin's ``mmsc`` fixture in plain tests, in async tests, and without
pytest-asyncio.

A plain test gets the mock served from a background thread (its own event loop), so a blocking
``SyncMM7Client`` gets answers; an async test gets it on its own event loop, as before.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

from mm7client import MM7Client, SubmitRequest, SyncMM7Client
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, SyncMockMMSC

PAUSE = 0.7  # the client's pause after 4030; the mock's 60 s window lasts 0.6 s here
IDENTITY = {"vasp_id": "VASP", "kisa_orig_code": "123456789", "callback": "15881234"}


def sync_client(url: str, **retry: float) -> SyncMM7Client:
    policy = RetryPolicy(pause_seconds=PAUSE, base_delay=0.01, **retry)  # type: ignore[arg-type]
    return SyncMM7Client(url, vas_id="SVC", retry=policy, **IDENTITY)


def test_a_plain_test_gets_a_mock_that_answers_a_sync_client(mmsc: SyncMockMMSC) -> None:
    assert isinstance(mmsc, SyncMockMMSC)
    started = time.monotonic()
    with sync_client(mmsc.url) as client:
        result = client.submit(SubmitRequest(to=["01012345678"], subject="sync"))
    assert result.normalized.category == "success"
    assert time.monotonic() - started < 10
    (received,) = mmsc.assert_received(1, recipient="01012345678", vas_id="SVC")
    assert received.status_code == 1000
    assert [m.recipients for m in mmsc.wait_for_messages(1)] == [["01012345678"]]


def test_the_sync_mock_is_scripted_and_read_from_the_test(mmsc: SyncMockMMSC) -> None:
    mmsc.overload(60, vas_id="SVC")  # 0.6 s at the fixture's time scale
    rule_id = mmsc.add_rule(recipient="01055556666", status=4006)
    with sync_client(mmsc.url) as client:
        paused = client.submit(SubmitRequest(to=["01012345678"]))
        refused = client.submit(SubmitRequest(to=["01055556666"]))
    assert paused.normalized.category == "success"
    assert paused.attempts == 2  # 4030, a pause longer than the window, then 1000
    assert mmsc.requests_during_overload("SVC") == 0
    assert refused.normalized.origin_result == "4006"
    assert refused.attempts == 4  # the default retry budget: 4006 is a retry code
    assert [m.status_code for m in mmsc.received(recipient="01055556666")] == [4006] * 4
    assert mmsc.remove_rule(rule_id) is True

    mmsc.set_tps("SVC", 1)
    with sync_client(mmsc.url, max_throttled_resends=0) as client:
        results = [client.submit(SubmitRequest(to=["01012345678"])) for _ in range(3)]
    assert "7103" in [r.normalized.origin_result for r in results]

    mmsc.reset()
    assert mmsc.messages == []
    with pytest.raises(TimeoutError, match="got 0"):
        mmsc.wait_for_messages(1, timeout=0.05)


def test_the_sync_mock_runs_every_call_on_its_own_thread(mmsc_sync: SyncMockMMSC) -> None:
    mock_thread = mmsc_sync.call(threading.current_thread)
    assert mock_thread is not threading.current_thread()
    assert mock_thread.name == "mockmmsc"
    assert mmsc_sync.run(asyncio.sleep(0, "ran")) == "ran"
    assert mmsc_sync.url.startswith("http://127.0.0.1:") and mmsc_sync.port > 0


def test_a_sync_mock_stops_its_thread_and_port() -> None:
    with SyncMockMMSC(time_scale=0.01) as mock:
        port = mock.port
        thread = mock.call(threading.current_thread)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    assert not thread.is_alive()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with pytest.raises(RuntimeError, match="not started"):
        _ = mock.url


def test_a_sync_mock_that_cannot_listen_says_why() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        mock = SyncMockMMSC(port=port)
        with pytest.raises(OSError):
            mock.start()
    with pytest.raises(RuntimeError, match="not started"):
        mock.reset()


@pytest.mark.asyncio
async def test_an_async_test_gets_the_mock_on_its_own_loop(mmsc: MockMMSC) -> None:
    assert isinstance(mmsc, MockMMSC)
    async with MM7Client(
        mmsc.url, vas_id="SVC", retry=RetryPolicy(pause_seconds=PAUSE), **IDENTITY
    ) as client:
        mmsc.overload(60, vas_id="SVC")
        result = await client.submit(SubmitRequest(to=["01012345678"]))
    assert result.normalized.category == "success"
    assert mmsc.requests_during_overload("SVC") == 0
    assert len(await mmsc.wait_for_messages(2)) == 2


#: Runs pytest with pytest_asyncio not importable, as on a machine without it.
WITHOUT_PYTEST_ASYNCIO = """
import sys

class NoPytestAsyncio:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pytest_asyncio":
            raise ImportError(f"No module named {name!r}")

sys.meta_path.insert(0, NoPytestAsyncio())
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""

USER_TESTS = """
import pytest
from mm7client import SubmitRequest, SyncMM7Client

def test_sync(mmsc):
    with SyncMM7Client(mmsc.url, vas_id="SVC", kisa_orig_code="123456789") as client:
        assert client.submit(SubmitRequest(to=["01012345678"])).normalized.category == "success"

def test_sync_asking_for_the_async_mock(mmsc_async):
    pass

@pytest.mark.asyncio
async def test_async(mmsc):
    pass

async def test_async_unmarked(mmsc):
    pass

def test_session(mmsc_session):
    pass
"""


@pytest.mark.parametrize("missing", ["disabled", "not installed"])
def test_without_pytest_asyncio_the_fixtures_say_what_to_install(
    tmp_path: Path, missing: str
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n")
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    launcher = ["-m", "pytest"] if missing == "disabled" else ["-c", WITHOUT_PYTEST_ASYNCIO]
    # -rN: no short summary, so each message is counted once in its error section (under CI
    # pytest writes the summary lines whole, which would repeat every message)
    done = subprocess.run(
        [sys.executable, *launcher, "-p", "no:asyncio", "-p", "no:cacheprovider", "-q", "-rN"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "1 passed, 4 errors" in output, output
    assert "not found" not in output, output
    needs = (
        "needs pytest-asyncio (the mock runs on its event loop): pip install 'mm7toolkit[pytest]'"
    )
    assert output.count(needs) == 4, output
    assert "the mmsc fixture of the async test test_async_unmarked needs" in output
    assert "the mmsc_session fixture needs" in output


def test_the_async_mock_in_a_plain_test_fails_at_once_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_user.py").write_text("def test_plain(mmsc_async):\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1 and "1 error" in output, output
    assert (
        "the mmsc_async fixture serves the mock on the test's event loop, which the plain test "
        "test_plain never runs (its requests would hang): use mmsc or mmsc_sync"
    ) in output


def test_the_pytest_extra_installs_the_fixtures_needs_alone() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    extras = project["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", requirement)[0] for requirement in extras["pytest"]}
    assert names == {"pytest", "pytest-asyncio"}
    (itself,) = [r for r in extras["test"] if r.startswith("mm7toolkit[")]
    assert "pytest" in itself[len("mm7toolkit[") : -1].split(",")  # developing needs them too
