"""A sender fleet: 1, 2 and 4 sender processes against the mock, in-process vs Redis throttle.

Two measurements, everything on 127.0.0.1, every run bounded in time:

1. **Full speed.** N sender processes (N = 1, 2, 4; ``MM7Client`` at concurrency 16 each) send
   text SubmitReqs for ``--seconds`` to one mock MMSC (its own process) under a contract far
   above what they can reach, so the throttle is asked for every send but never holds one:
   once with the in-process backend (the reference, measured in the same round) and once with
   :class:`~mm7client.throttle.redis.RedisThrottle` on one shared prefix. It prints the
   aggregate messages/s of each (medians of ``--rounds`` paired rounds), the median ratio
   Redis / in-process (target: at least 0.85 at 4 processes), and what Redis costs per
   message: round trips, sender CPU over the in-process sender's, and the Redis server's CPU.
2. **The contract.** 4 processes on one VASID contracted at ``--tps`` (200) on the mock too,
   for ``--contract-seconds`` (10): the aggregate accepted rate with the Redis backend (target
   within ±5% of the contract) and the 7103s, next to the same fleet with the in-process
   backend (each process keeping the contract alone: the fleet sends N times it).

The Redis server is a throwaway ``redis-server`` on a free port (or ``--redis URL``).

    python bench/fleet.py [--rounds 3] [--seconds 3] [--tps 200] [--contract-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from _common import proc_cpu_seconds as cpu_seconds

from mm7client import MM7Client, Part, SubmitRequest
from mm7client.throttle import RetryPolicy

VAS = "FLEET"
UNREACHABLE_TPS = 1_000_000.0  # a contract no fleet here reaches: the throttle never holds
IDENTITY = {
    "vasp_id": "BENCH",
    "vas_id": VAS,
    "kisa_orig_code": "123456789",
    "callback": "15881234",
}
CONCURRENCY = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayRedis:
    """``redis-server`` on a free loopback port, nothing saved, removed at the end."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="mm7-bench-redis-")
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def _serve_mock(conn: Connection, tps: float | None) -> None:
    """Child process: the mock on 127.0.0.1 until told to stop; sends its URL and pid."""
    import logging

    from mockmmsc import MockMMSC, MockSettings

    logging.disable(logging.WARNING)

    async def main() -> None:
        settings = MockSettings(
            host="127.0.0.1", port=0, time_scale=0.0, max_stored_messages=1000, default_tps=tps
        )
        async with MockMMSC(settings) as mock:
            conn.send((mock.url, os.getpid()))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


@dataclass
class Report:
    """What one sender process did inside the measured window."""

    accepted: int
    refused_7103: int
    other: int
    cpu: float
    calls: int


def _sender(
    conn: Connection,
    url: str,
    backend: str,
    redis_url: str,
    prefix: str,
    tps: float,
    seconds: float,
) -> None:
    """Child process: warm up, say so, get the start time, send for ``seconds``; report."""
    import logging

    logging.disable(logging.WARNING)
    message = SubmitRequest(
        to=["01012345678"], subject="성능 측정", content=[Part.from_text("MM7 함대 측정 " * 10)]
    )

    async def main() -> Report:
        options: dict[str, Any] = {"tps": tps}
        throttle = None
        if backend == "redis":
            from mm7client.throttle.redis import RedisThrottle

            throttle = RedisThrottle(redis_url, tps=tps, prefix=prefix)
            options = {"throttle": throttle}
        async with MM7Client(url, retry=RetryPolicy.no_retries(), **IDENTITY, **options) as client:
            await client.submit(message)  # connect (and load the scripts) before the clock runs
            conn.send("ready")
            start_at = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            await asyncio.sleep(max(0.0, start_at - time.time()))
            end = start_at + seconds
            counts = {"1000": 0, "7103": 0, "other": 0}
            cpu_before = time.process_time()
            calls_before = throttle.calls if throttle else 0

            async def worker() -> None:
                while time.time() < end:
                    result = await client.submit(message)
                    if time.time() <= end:
                        code = result.normalized.origin_result
                        counts[code if code in counts else "other"] += 1

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            cpu = time.process_time() - cpu_before
            calls = (throttle.calls if throttle else 0) - calls_before
        return Report(counts["1000"], counts["7103"], counts["other"], cpu, calls)

    conn.send(asyncio.run(main()))


@dataclass
class Run:
    """A fleet's run: aggregate accepted rate, and costs per accepted message."""

    rate: float
    refused_7103: int
    other: int
    sender_cpu: float
    calls: float
    redis_cpu: float | None


def run_fleet(
    url: str,
    processes: int,
    backend: str,
    redis: ThrowawayRedis | None,
    redis_url: str,
    tps: float,
    seconds: float,
) -> Run:
    context = multiprocessing.get_context("spawn")
    prefix = f"mm7bench:{uuid.uuid4().hex[:8]}:"
    pipes, children = [], []
    for _ in range(processes):
        parent, child = context.Pipe()
        process = context.Process(
            target=_sender,
            args=(child, url, backend, redis_url, prefix, tps, seconds),
        )
        process.start()
        pipes.append(parent)
        children.append(process)
    for pipe, process in zip(pipes, children, strict=True):  # started, connected and warm
        if not pipe.poll(120) or pipe.recv() != "ready":
            for child in children:
                child.kill()
            raise RuntimeError(f"a sender did not start (exit code {process.exitcode})")
    start_at = time.time() + 0.2
    for pipe in pipes:
        pipe.send(start_at)
    while time.time() < start_at:
        time.sleep(0.005)
    redis_before = cpu_seconds(redis.process.pid) if redis else None
    reports: list[Report] = [pipe.recv() for pipe in pipes]
    redis_after = cpu_seconds(redis.process.pid) if redis else None
    for process in children:
        process.join(30)
    accepted = sum(r.accepted for r in reports) or 1
    redis_cpu = None
    if backend == "redis" and redis_before is not None and redis_after is not None:
        redis_cpu = (redis_after - redis_before) / accepted
    return Run(
        rate=sum(r.accepted for r in reports) / seconds,
        refused_7103=sum(r.refused_7103 for r in reports),
        other=sum(r.other for r in reports),
        sender_cpu=sum(r.cpu for r in reports) / accepted,
        calls=sum(r.calls for r in reports) / accepted,
        redis_cpu=redis_cpu,
    )


def start_mock(tps: float | None) -> tuple[str, Connection, Any]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve_mock, args=(child, tps), daemon=True)
    process.start()
    url, _ = parent.recv()
    return url, parent, process


def stop_mock(conn: Connection, process: Any) -> None:
    conn.send("stop")
    process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--tps", type=float, default=200.0)
    parser.add_argument("--contract-seconds", type=float, default=10.0)
    parser.add_argument("--redis", help="a Redis URL (default: a throwaway redis-server)")
    args = parser.parse_args()

    redis = None if args.redis else ThrowawayRedis()
    redis_url = args.redis or (redis.url if redis else "")
    load = os.getloadavg()[0]
    print(
        f"bench/fleet.py: {args.rounds} paired rounds of {args.seconds:g} s, concurrency "
        f"{CONCURRENCY} per sender, load {load:.1f}, {os.cpu_count()} cores"
    )
    try:
        url, conn, mock = start_mock(None)
        try:
            print("\n1. full speed (a contract of 1,000,000 TPS: asked every send, never holds)")
            print(
                f"{'procs':>5} {'in-process/s':>12} {'redis/s':>8} {'ratio':>6} "
                f"{'trips/msg':>9} {'cpu µs local':>12} {'cpu µs redis':>12} "
                f"{'redis-server µs':>15}"
            )
            for processes in (1, 2, 4):
                locals_, shareds, ratios = [], [], []
                for round_ in range(args.rounds):
                    order = ("local", "redis") if round_ % 2 == 0 else ("redis", "local")
                    runs = {}
                    for backend in order:
                        runs[backend] = run_fleet(
                            url,
                            processes,
                            backend,
                            redis,
                            redis_url,
                            UNREACHABLE_TPS,
                            args.seconds,
                        )
                    locals_.append(runs["local"])
                    shareds.append(runs["redis"])
                    ratios.append(runs["redis"].rate / runs["local"].rate)
                redis_cpu = [r.redis_cpu for r in shareds if r.redis_cpu is not None]
                print(
                    f"{processes:>5} {statistics.median(r.rate for r in locals_):>12.0f} "
                    f"{statistics.median(r.rate for r in shareds):>8.0f} "
                    f"{statistics.median(ratios):>6.2f} "
                    f"{statistics.median(r.calls for r in shareds):>9.3f} "
                    f"{statistics.median(r.sender_cpu for r in locals_) * 1e6:>12.0f} "
                    f"{statistics.median(r.sender_cpu for r in shareds) * 1e6:>12.0f} "
                    f"{(statistics.median(redis_cpu) * 1e6 if redis_cpu else 0):>15.1f}"
                )
        finally:
            stop_mock(conn, mock)

        print(
            f"\n2. one contract of {args.tps:g} TPS (the mock's too), 4 processes, "
            f"{args.contract_seconds:g} s"
        )
        url, conn, mock = start_mock(args.tps)
        try:
            for backend in ("redis", "local"):
                run = run_fleet(url, 4, backend, redis, redis_url, args.tps, args.contract_seconds)
                label = "Redis, shared" if backend == "redis" else "in-process, each alone"
                print(
                    f"{label:<24} accepted {run.rate:7.1f}/s ({run.rate / args.tps:.3f} of the "
                    f"contract), 7103 x{run.refused_7103}, other x{run.other}"
                )
        finally:
            stop_mock(conn, mock)
    finally:
        if redis is not None:
            redis.close()


if __name__ == "__main__":
    main()
