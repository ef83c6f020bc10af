"""Four ``mm7 send --redis`` processes share one VASID's contract through a real Redis.

The mock MMSC runs on a thread of the test process (loopback, port 0) with the VASID contracted
at ``T`` TPS: a request above it is answered 7103. Four sender processes each send their own
rows of one CSV to it, all with ``--tps T --redis URL`` and one key prefix:

* the contract holds for the fleet: no 7103 at all, every one-second window of accepted
  requests within ``T`` + ``TOLERANCE``, and the fleet reaches at least 90% of ``T``;
* a 4030 window opened on the mock while they send: after the first 4030 answer the mock sees
  only what was already on its way (at most one request per process), and every row still
  ends with exactly one final result, accepted once;
* the Redis server killed (SIGKILL) and restarted mid-run: the processes hold, reconnect and
  finish without a restart, within the contract, every row one final result.

Runs are a few seconds each (T = 40, 40 rows per process; the mock's time scale makes its
60 s 4030 window 1.2 s).
"""

from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from services import RedisServer

from mm7client.bulk import read_results
from mockmmsc import MockMMSC, MockSettings

T = 40  # the contract, TPS
# A one-second window may hold T + 1 (its edges) + 5% (a slot may be used up to 50 ms late)
# of sends; the mock sees them through the jitter of five processes on two busy cores: +10%.
TOLERANCE = T // 10
PROCESSES = 4
ROWS = 40  # per process
VAS = "FLEET"
PAUSE = 1.3  # the client's pause after 4030; the mock's window is 60 s x 0.02 = 1.2 s
IDENTITY = ["--vasp-id", "VASP", "--vas-id", VAS, "--kisa-code", "123456789"]


@contextmanager
def running_mock(**settings: object) -> Iterator[tuple[MockMMSC, asyncio.AbstractEventLoop]]:
    """A mock MMSC on 127.0.0.1 (free port) served by a background thread."""
    loop = asyncio.new_event_loop()
    mock = MockMMSC(MockSettings(host="127.0.0.1", port=0, **settings))  # type: ignore[arg-type]
    loop.run_until_complete(mock.start())
    mock.set_tps(VAS, T)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield mock, loop
    finally:
        asyncio.run_coroutine_threadsafe(mock.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def write_rows(path: Path, process: int) -> list[str]:
    numbers = [f"0106{process:02d}{i:05d}" for i in range(ROWS)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["to", "subject", "text"])
        for i, number in enumerate(numbers):
            writer.writerow([number, "공지", f"본문 {process}-{i}"])
    return numbers


class Fleet:
    """``PROCESSES`` senders started together, each with its rows and result file."""

    def __init__(self, tmp_path: Path, url: str, redis_url: str, prefix: str) -> None:
        self.numbers: list[str] = []
        self.outs: list[Path] = []
        self.processes: list[subprocess.Popen[str]] = []
        for n in range(PROCESSES):
            rows, out = tmp_path / f"rows{n}.csv", tmp_path / f"results{n}.csv"
            self.numbers += write_rows(rows, n)
            self.outs.append(out)
            args = [
                *IDENTITY,
                "--url",
                url,
                "--csv",
                str(rows),
                "--out",
                str(out),
                "--tps",
                str(T),
                "--redis",
                redis_url,
                "--redis-prefix",
                prefix,
                "--pause",
                str(PAUSE),
                "--no-report",
                "--progress",
                "off",
            ]
            command = [sys.executable, "-m", "mm7client.cli", "send", *args]
            self.processes.append(subprocess.Popen(command, stderr=subprocess.PIPE, text=True))
        self.errors: list[str] = []

    def wait(self, timeout: float = 60.0) -> list[int]:
        deadline = time.monotonic() + timeout
        codes = []
        for process in self.processes:
            try:
                _, err = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                _, err = process.communicate()
            self.errors.append(err)
            codes.append(process.returncode)
        return codes

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    def final_results(self) -> Counter[tuple[str, str]]:
        """(recipient, originResult) of every result line of every process."""
        found: Counter[tuple[str, str]] = Counter()
        for out in self.outs:
            for _, row in read_results(out).rows:
                data = row.as_dict()
                found[(str(data["to"]), str(data["originResult"]))] += 1
        return found


@contextmanager
def fleet(tmp_path: Path, url: str, redis_url: str, prefix: str) -> Iterator[Fleet]:
    senders = Fleet(tmp_path, url, redis_url, prefix)
    try:
        yield senders
    finally:
        senders.kill()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)


def accepted_times(mock: MockMMSC) -> list[float]:
    return sorted(
        m.received_at for m in mock.received(operation="SubmitReq") if m.status_code == 1000
    )


def busiest_second(times: list[float]) -> int:
    """The most accepted requests in any one-second window (sliding, starting at each)."""
    best, j = 0, 0
    for i, first in enumerate(times):
        j = max(j, i)
        while j < len(times) and times[j] < first + 1.0:
            j += 1
        best = max(best, j - i)
    return best


def check_every_row_once(mock: MockMMSC, senders: Fleet, codes: list[int]) -> None:
    assert codes == [0] * PROCESSES, senders.errors
    # one final result per row, accepted
    assert senders.final_results() == Counter((number, "1000") for number in senders.numbers)
    # and accepted once by the MMSC
    accepted = Counter(
        r
        for m in mock.received(operation="SubmitReq")
        if m.status_code == 1000
        for r in m.recipients
    )
    assert accepted == Counter(senders.numbers)


def check_contract(mock: MockMMSC) -> tuple[int, float]:
    refused = [m for m in mock.received(operation="SubmitReq") if m.status_code == 7103]
    assert refused == [] and dict(mock.tps.refused) == {}
    times = accepted_times(mock)
    busiest = busiest_second(times)
    assert busiest <= T + TOLERANCE, busiest
    return busiest, (len(times) - 1) / (times[-1] - times[0])


def test_four_processes_share_one_contract(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    with running_mock() as (mock, _), fleet(tmp_path, mock.url, redis_url, redis_prefix) as f:
        codes = f.wait()
        check_every_row_once(mock, f, codes)
        busiest, rate = check_contract(mock)
    assert rate >= 0.9 * T, rate
    print(f"\nfleet of {PROCESSES} at T={T}: busiest second {busiest}, aggregate {rate:.1f}/s")


def test_a_4030_holds_every_process_until_the_pause_ends(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    with (
        running_mock(time_scale=0.02) as (mock, loop),
        fleet(tmp_path, mock.url, redis_url, redis_prefix) as f,
    ):
        wait_for(lambda: len(accepted_times(mock)) >= T, 30, f"{T} accepted requests")
        loop.call_soon_threadsafe(mock.overload, 60, VAS)
        codes = f.wait()
        overloaded = [m for m in mock.received(operation="SubmitReq") if m.status_code == 4030]
        # after the first 4030 answer, only what was already on the wire: a request per
        # process at most (at T TPS, one every 25 ms for the whole fleet)
        late = mock.requests_during_overload(VAS)
        check_every_row_once(mock, f, codes)
        check_contract(mock)
    assert overloaded, "the window answered no 4030"
    assert late <= PROCESSES, late
    first = min(m.received_at for m in overloaded)
    after_pause = [
        m.received_at
        for m in mock.received(operation="SubmitReq")
        if first < m.received_at < first + PAUSE - 0.05 and m.status_code != 4030
    ]
    assert after_pause == []  # nothing accepted while the fleet was paused
    print(f"\n4030: {len(overloaded)} answered, {late} arrived after the first")


def test_redis_killed_and_restarted_mid_run(tmp_path: Path, own_redis: RedisServer) -> None:
    server = own_redis  # this test's own server, on a free port: it may kill it
    with running_mock() as (mock, _), fleet(tmp_path, mock.url, server.url, "kill:") as f:
        wait_for(lambda: len(accepted_times(mock)) >= T, 30, f"{T} accepted requests")
        assert server.process is not None
        server.process.kill()
        server.process.wait(10)
        killed = time.time()
        time.sleep(1.0)
        server.start()  # the same port, empty: the schedule and pauses are gone
        restarted = time.time()
        codes = f.wait()
        check_every_row_once(mock, f, codes)
        busiest, _ = check_contract(mock)
        # slots handed out before the kill (up to max_ahead, 0.5 s) are still used
        held = [t - killed for t in accepted_times(mock) if killed + 0.55 < t < restarted]
    # while Redis was away nobody sent on a shared slot it did not have
    assert held == [], held
    # one log line per change of state (a process done before the restart saw only the loss)
    changes = [
        (err.count("Redis throttle unreachable"), err.count("Redis throttle reachable again"))
        for err in f.errors
    ]
    assert all(down <= 1 and up <= down for down, up in changes), f.errors
    assert (1, 1) in changes, f.errors
    print(f"\nRedis restart: busiest second {busiest}")
