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
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time

import aiohttp

from mm7client.codec import encode
from mm7client.model import Part, Status, SubmitRequest, SubmitResponse
from mm7client.profiles import LGT


def build_bodies() -> dict[str, tuple[bytes, str]]:
    common = dict(
        to=["01012345678"],
        vasp_id="BENCHVASP",
        vas_id="BENCHVAS",
        sender_address="15881234",
        callback="15881234",
        kisa_orig_code="123456789",
        delivery_report=False,
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
        settings = MockSettings(host="127.0.0.1", port=0, time_scale=0.0, max_stored_messages=2000)
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


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid``; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(target) -> tuple[multiprocessing.Process, int]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=target, args=(child,), daemon=True)
    process.start()
    if not parent.poll(30):
        raise RuntimeError(f"{target.__name__} did not start")
    return process, parent.recv()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    bodies = build_bodies()
    servers = {}
    processes = {}
    for name, target in (("bare aiohttp", serve_bare), ("mock MMSC", serve_mock)):
        process, port = start(target)
        processes[name] = process
        servers[name] = f"http://127.0.0.1:{port}/mm7"
    print(
        f"cpus={os.cpu_count()} rounds={args.rounds} requests<={args.requests} "
        f"seconds<={args.seconds} concurrency={args.concurrency}"
    )
    try:
        for body_name, (body, content_type) in bodies.items():
            results: dict[str, list[float]] = {name: [] for name in servers}
            cpu_per_request: dict[str, list[float]] = {name: [] for name in servers}
            generator_cpu: dict[str, list[float]] = {name: [] for name in servers}
            for url in servers.values():  # warm-up
                asyncio.run(load(url, body, content_type, 300, 2.0, args.concurrency))
            names = list(servers)
            for round_number in range(args.rounds):
                # each round measures both servers back to back (in alternating order), so a
                # round's ratio compares them under the same machine conditions
                order = names if round_number % 2 == 0 else names[::-1]
                for name in order:
                    pid = processes[name].pid
                    cpu_before = cpu_seconds(pid)
                    own_before = time.process_time()
                    done, elapsed = asyncio.run(
                        load(
                            servers[name],
                            body,
                            content_type,
                            args.requests,
                            args.seconds,
                            args.concurrency,
                        )
                    )
                    cpu_after = cpu_seconds(pid)
                    generator_cpu[name].append((time.process_time() - own_before) / done)
                    results[name].append(done / elapsed)
                    if cpu_before is not None and cpu_after is not None:
                        cpu_per_request[name].append((cpu_after - cpu_before) / done)
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
