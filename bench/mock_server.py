"""Requests per second of the mock MMSC against a bare aiohttp handler, same load generator.

Each server runs in its own process on 127.0.0.1 (port 0); the load generator (an aiohttp client
with bounded concurrency, bounded by request count AND time) runs in this process. Two bodies:
a small LGT SubmitReq (text only) and one with a 50 KB JPEG. The bare handler reads the body and
returns fixed bytes (a pre-encoded SubmitRsp). The mock does what it does for every request
with its default settings: read the SOAP envelope's fields with the shared codec
(``summarize_request``: the MIME structure, the envelope's XML; the message itself is decoded
later, when something reads it; ``--check-content`` would decode it here), auth/KISA/overload/
TPS/rules/magic decisions, the SubmitRsp (encoded once per status, rendered with the request's
ids), store the request (DeliveryReport=false: no report traffic). Each round measures both
servers back to back; prints the median rates and the median of the rounds' ratios (a shared
machine's speed drifts between rounds, and the paired ratio cancels most of that drift).

It also prints the CPU time per request of the load generator and (where /proc is available)
of each server. Those figures explain the ratio: when the generator costs more per request than
the bare handler, the generator bounds the bare rate, the ratio is then the generator's cost
over the mock's, and on a shared machine it moves with whichever core is slowed down.

    python bench/mock_server.py [--rounds 9] [--requests 2000] [--seconds 5] [--concurrency 32]

``--soak N`` measures instead whether the mock stays fast in a long run: N small SubmitReqs
asking for a delivery report, with no report URL configured (each report is kept and never
delivered: what used to pile up as pending and slow every later request), in ten slices; it
prints the mock's CPU per request in each slice and checks that the last slice costs within
20% of the first. Each slice is measured in five parts and its figure is their median: on a
shared machine one part can be slowed by a neighbour, the median is not. Bounded by
``--soak-seconds`` too (default 600 s).

    python bench/mock_server.py --soak 200000

``--instructions N`` counts instead the CPU instructions each server executes per request,
under valgrind's callgrind (each server in a process of its own, counted only while N requests
of each body are answered, after a warm-up): a figure that stays the same on a busy machine,
where CPU seconds do not, so two versions can be compared by running this at both. Both
servers freeze what they imported before they answer (``gc.freeze()``), so that whether a full
garbage collection falls into the counted requests does not depend on how much each imported.
Needs valgrind; about a minute for N = 1000.

    python bench/mock_server.py --instructions 1000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field

import aiohttp
from _common import CallgrindServer, callgrind_missing, cpu_seconds

from mm7client.codec import encode
from mm7client.model import Part, Status, SubmitRequest, SubmitResponse
from mm7client.profiles import LGT


def build_bodies(delivery_report: bool = False) -> dict[str, tuple[bytes, str]]:
    common = dict(
        to=["01012345678"],
        vasp_id="BENCHVASP",
        vas_id="BENCHVAS",
        sender_address="15881234",
        callback="15881234",
        kisa_orig_code="123456789",
        delivery_report=delivery_report,
        subject="bench",
    )
    small = SubmitRequest(**common, content=[Part.from_text("안녕하세요, 벤치마크입니다.")])
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(50 * 1024 - 4)
    large = SubmitRequest(
        **common, content=[Part.from_text("사진"), Part.jpeg(jpeg, filename="photo.jpg")]
    )
    bodies = {}
    for name, message in (("small SubmitReq", small), ("SubmitReq + 50 KB JPEG", large)):
        encoded = encode(message, LGT)
        bodies[name] = (encoded.body, encoded.content_type)
    return bodies


def serve_bare(port_pipe) -> None:
    from aiohttp import web

    answer = encode(
        SubmitResponse(transaction_id="t", status=Status.of(1000, "Success"), message_id="1"), LGT
    )

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=answer.body, content_type="text/xml", charset="euc-kr")

    async def main() -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/mm7", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_pipe.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_mock(port_pipe) -> None:
    from mockmmsc import MockMMSC, MockSettings

    async def main() -> None:
        # the default bounds of a long run (requests and reports kept), no report URL
        settings = MockSettings(host="127.0.0.1", port=0, time_scale=0.0)
        async with MockMMSC(settings) as mock:
            port_pipe.send(mock.port)
            await asyncio.Event().wait()

    asyncio.run(main())


async def load(
    url: str, body: bytes, content_type: str, requests: int, seconds: float, concurrency: int
) -> tuple[int, float]:
    """(requests done, seconds taken) of a bounded load."""
    headers = {"Content-Type": content_type, "SOAPAction": '""'}
    connector = aiohttp.TCPConnector(limit=concurrency)
    done = 0
    failures = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + seconds
        issued = 0

        async def worker() -> None:
            nonlocal issued, done, failures
            while issued < requests and loop.time() < deadline:
                issued += 1
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                done += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = loop.time() - started
    if failures:
        raise RuntimeError(f"{failures} of {done} requests failed")
    return done, elapsed


@dataclass
class Measured:
    """One server's rounds: rates (req/s) and CPU seconds per request of the server (where
    /proc is readable) and of the load generator."""

    rates: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    generator_cpu: list[float] = field(default_factory=list)


def measure_alternately(
    servers: dict[str, str],
    processes: dict[str, multiprocessing.Process],
    body: bytes,
    content_type: str,
    *,
    rounds: int,
    requests: int,
    seconds: float,
    concurrency: int,
) -> dict[str, Measured]:
    """Warm every server up, then ``rounds`` bounded loads of each: each round measures them
    back to back (in alternating order), so a round's ratio compares them under the same
    machine conditions."""
    measured = {name: Measured() for name in servers}
    for url in servers.values():  # warm-up
        asyncio.run(load(url, body, content_type, 300, 2.0, concurrency))
    names = list(servers)
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            pid = processes[name].pid
            assert pid is not None
            cpu_before = cpu_seconds(pid)
            own_before = time.process_time()
            done, elapsed = asyncio.run(
                load(servers[name], body, content_type, requests, seconds, concurrency)
            )
            cpu_after = cpu_seconds(pid)
            figures = measured[name]
            figures.generator_cpu.append((time.process_time() - own_before) / done)
            figures.rates.append(done / elapsed)
            if cpu_before is not None and cpu_after is not None:
                figures.server_cpu.append((cpu_after - cpu_before) / done)
    return measured


def start(target) -> tuple[multiprocessing.Process, int]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=target, args=(child,), daemon=True)
    process.start()
    if not parent.poll(30):
        raise RuntimeError(f"{target.__name__} did not start")
    return process, parent.recv()


def soak(requests: int, seconds: float, concurrency: int) -> bool:
    """The mock's CPU per request over a long run, in ten slices; True when the last slice
    costs within 20% of the first."""
    body, content_type = build_bodies(delivery_report=True)["small SubmitReq"]
    process, port = start(serve_mock)
    url = f"http://127.0.0.1:{port}/mm7"
    part_size = max(1, requests // 50)
    deadline = time.monotonic() + seconds
    costs: list[float] = []
    print(
        f"cpus={os.cpu_count()} soak: {requests} SubmitReqs with DeliveryReport, no report URL, "
        f"in 10 slices; seconds<={seconds} concurrency={concurrency}"
    )
    try:
        asyncio.run(load(url, body, content_type, 300, 2.0, concurrency))  # warm-up
        for number in range(10):
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"  time bound reached after {number} slices")
                break
            parts: list[float] = []
            done = 0
            elapsed = 0.0
            for _ in range(5):
                before = cpu_seconds(process.pid)
                part_done, part_elapsed = asyncio.run(
                    load(url, body, content_type, part_size, max(0.1, left), concurrency)
                )
                after = cpu_seconds(process.pid)
                if before is None or after is None:
                    raise RuntimeError("the soak check needs /proc to read the mock's CPU time")
                parts.append((after - before) / part_done)
                done += part_done
                elapsed += part_elapsed
                left = deadline - time.monotonic()
            costs.append(statistics.median(parts))
            shown = ", ".join(f"{p * 1e6:.0f}" for p in parts)
            print(
                f"  slice {number + 1:2d}: {done:7d} requests, {done / elapsed:6.0f} req/s, "
                f"mock CPU {costs[-1] * 1e6:5.0f} µs/request (median of {shown})"
            )
    finally:
        process.terminate()
        process.join(timeout=5)
    if len(costs) < 10:
        print("  INCOMPLETE: fewer than 10 slices within the time bound")
        return False
    ratio = costs[-1] / costs[0]
    within = ratio <= 1.2
    print(
        f"  CPU per request: first 10% {costs[0] * 1e6:.0f} µs, last 10% {costs[-1] * 1e6:.0f} µs,"
        f" ratio last/first {ratio:.2f} (target <= 1.20): {'OK' if within else 'FAILED'}"
    )
    return within


class _PrintPort:
    """Announces a server's port on stdout (``--serve``), as the pipe does for a child; the
    server has started by then, so what it imported and built is frozen out of the garbage
    collector's full passes here, in the bare and the mock server alike."""

    def send(self, port: int) -> None:
        gc.freeze()  # what was imported stays out of the counted collections
        print(port, flush=True)


SERVERS = {"bare aiohttp": ("bare", serve_bare), "mock MMSC": ("mock", serve_mock)}


def count_instructions(requests: int, concurrency: int) -> None:
    """Instructions per request of each server for each body, under callgrind."""
    missing = callgrind_missing()
    if missing is not None:
        raise SystemExit(f"--instructions needs valgrind: {missing}")
    print(f"instructions per request under callgrind, {requests} requests of each body")
    with tempfile.TemporaryDirectory() as scratch:
        for body_name, (body, content_type) in build_bodies().items():
            counted: dict[str, float] = {}
            for name, (serve_name, _target) in SERVERS.items():
                argv = [sys.executable, __file__, "--serve", serve_name]
                server = CallgrindServer(argv, os.path.join(scratch, f"{serve_name}.out"))
                try:
                    url = f"http://127.0.0.1:{server.port}/mm7"
                    asyncio.run(load(url, body, content_type, 300, 120.0, concurrency))
                    with server.counting():
                        done, _ = asyncio.run(
                            load(url, body, content_type, requests, 600.0, concurrency)
                        )
                finally:
                    total = server.stop()
                counted[name] = total / done
            mock, bare = counted["mock MMSC"], counted["bare aiohttp"]
            print(f"\n{body_name} ({len(body)} bytes)")
            for name, per_request in counted.items():
                print(f"  {name:13s} {per_request:12,.0f} instructions per request")
            print(f"  ratio bare/mock: {bare / mock:.2f} (the mock costs {mock / bare:.2f} x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--soak", type=int, metavar="N", help="long-run check of N requests")
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument(
        "--instructions", type=int, metavar="N", help="count instructions of N requests"
    )
    parser.add_argument("--serve", choices=["bare", "mock"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # one server in this process (--instructions runs it under valgrind)
        dict(SERVERS.values())[args.serve](_PrintPort())
        return
    if args.instructions:
        count_instructions(args.instructions, args.concurrency)
        return
    if args.soak:
        if not soak(args.soak, args.soak_seconds, args.concurrency):
            raise SystemExit(1)
        return
    bodies = build_bodies()
    servers = {}
    processes = {}
    for name, (_serve_name, target) in SERVERS.items():
        process, port = start(target)
        processes[name] = process
        servers[name] = f"http://127.0.0.1:{port}/mm7"
    print(
        f"cpus={os.cpu_count()} rounds={args.rounds} requests<={args.requests} "
        f"seconds<={args.seconds} concurrency={args.concurrency}"
    )
    try:
        for body_name, (body, content_type) in bodies.items():
            measured = measure_alternately(
                servers,
                processes,
                body,
                content_type,
                rounds=args.rounds,
                requests=args.requests,
                seconds=args.seconds,
                concurrency=args.concurrency,
            )
            results = {name: m.rates for name, m in measured.items()}
            cpu_per_request = {name: m.server_cpu for name, m in measured.items()}
            generator_cpu = {name: m.generator_cpu for name, m in measured.items()}
            medians = {name: statistics.median(values) for name, values in results.items()}
            paired = zip(results["mock MMSC"], results["bare aiohttp"], strict=True)
            ratios = [mock / bare for mock, bare in paired]
            print(f"\n{body_name} ({len(body)} bytes)")
            for name, values in results.items():
                shown = ", ".join(f"{v:.0f}" for v in values)
                print(f"  {name:13s} median {medians[name]:8.0f} req/s   rounds: {shown}")
            shown = ", ".join(f"{r:.2f}" for r in ratios)
            print(
                f"  ratio mock/bare: {statistics.median(ratios):.2f} (median of the rounds' "
                f"ratios: {shown})  target >= 0.60"
            )
            for name in servers:
                shown = f"load generator {statistics.median(generator_cpu[name]) * 1e6:.0f} µs"
                if cpu_per_request[name]:
                    shown += f", server {statistics.median(cpu_per_request[name]) * 1e6:.0f} µs"
                print(f"  CPU per request against {name}: {shown}")
    finally:
        for process in processes.values():
            process.terminate()
            process.join(timeout=5)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
