"""End-to-end submits per second: MM7Client against the mock MMSC on loopback.

For a text message and a 50 KB JPEG message, at concurrency 1, 16 and 64, it measures

* ``client``: :meth:`MM7Client.submit` over ``transport="aiohttp"`` (encode with a fresh
  TransactionID, throttle checks, POST, decode, normalize) and
* ``http11``: the same over the default transport, ``"http11"`` (the lean asyncio transport
  instead of aiohttp), and
* ``raw``: a bare aiohttp client posting the same pre-built bytes with the same headers,

against the same mock (its own process, so the two sides do not share a CPU core), and prints
the median of a few rounds, the median of the rounds' client/raw ratios (each round measures
both back to back), and the CPU time per message of this process (the client, or the raw
client) and of the mock (from /proc, where there is one). The client's CPU per message over the
raw client's is what the client itself costs; the target is a ratio of at least 0.8 at
concurrency 16. Every round is bounded in count and time; only 127.0.0.1 is used.

    python bench/client_e2e.py [--rounds 5] [--count 600] [--seconds 2.0] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from _common import cpu_seconds

from mm7client import MM7Client, Part, SubmitRequest, encode, get_profile
from mm7client.throttle import RetryPolicy

CONCURRENCY = (1, 16, 64)


def _serve_mock(conn: Connection) -> None:
    """Child process: run the mock on 127.0.0.1 until told to stop."""
    import logging

    from mockmmsc import MockMMSC, MockSettings

    logging.disable(logging.WARNING)

    async def main() -> None:
        settings = MockSettings(host="127.0.0.1", port=0, time_scale=0.0, max_stored_messages=1000)
        async with MockMMSC(settings) as mock:
            conn.send(mock.url)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)

    asyncio.run(main())


def jpeg_bytes(size: int) -> bytes:
    """A JPEG-framed blob of ``size`` bytes (the codec does not decode pixels)."""
    head = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
    body = os.urandom(size - len(head) - 2).replace(b"\xff", b"\x00")
    return head + body + b"\xff\xd9"


def messages() -> dict[str, SubmitRequest]:
    text = SubmitRequest(
        to=["01012345678"],
        subject="성능 측정",
        content=[Part.from_text("MM7 성능 측정 메시지입니다. " * 10)],
    )
    image = SubmitRequest(
        to=["01012345678"],
        subject="사진",
        content=[Part.from_text("사진 첨부"), Part.jpeg(jpeg_bytes(50 * 1024), filename="p.jpg")],
    )
    return {"text": text, "jpeg 50KB": image}


@dataclass
class Round:
    """One measured round: the rate, and CPU seconds per message of this process and the mock."""

    rate: float
    cpu: float
    mock_cpu: float | None


async def run_round(
    send: Callable[[], Awaitable[bool]], concurrency: int, count: int, seconds: float, mock_pid: int
) -> Round:
    """Submits per second of ``count`` sends (stopping early after ``seconds``), and CPU."""
    started = 0
    done = 0
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal started, done, failures
        while started < count and time.perf_counter() < deadline:
            started += 1
            if await send():
                done += 1
            else:
                failures += 1

    mock_before = cpu_seconds(mock_pid)
    cpu_before = time.process_time()
    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    cpu = time.process_time() - cpu_before
    mock_after = cpu_seconds(mock_pid)
    if failures:
        raise RuntimeError(f"{failures} sends failed")
    mock_cpu = None
    if mock_before is not None and mock_after is not None:
        mock_cpu = (mock_after - mock_before) / done
    return Round(done / elapsed, cpu / done, mock_cpu)


def _us(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known) * 1e6:.0f}" if known else "-"


async def bench(
    url: str, mock_pid: int, rounds: int, count: int, seconds: float, levels: list[int]
) -> None:
    profile = get_profile("lgt")
    identity = {
        "vasp_id": "BENCH",
        "vas_id": "BENCH01",
        "kisa_orig_code": "123456789",
        "callback": "15881234",
    }
    print(f"mock: {url} (own process); rounds={rounds}, count<={count}, time<={seconds}s")
    print("rates: medians of the rounds; ratio: median of each round's client/raw ratio")
    print("CPU: µs per message of this process (the sender) and of the mock, medians")
    print("client: MM7Client(transport='aiohttp'); http11: MM7Client() (the default transport)")
    print(
        f"{'message':<10} {'conc':>4} {'sender':<7} {'msg/s':>6} {'ratio':>6} "
        f"{'cpu':>5} {'mock cpu':>8}"
    )
    connector = aiohttp.TCPConnector(limit=100)
    options: dict[str, Any] = {"retry": RetryPolicy.no_retries(), "max_connections": 100}
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        MM7Client(url, transport="aiohttp", **options, **identity) as client,
        MM7Client(url, transport="http11", **options, **identity) as lean,
    ):
        for name, request in messages().items():
            filled = SubmitRequest(**{**_fields(request), **identity})
            encoded = encode(filled, profile)
            body, headers = encoded.body, encoded.headers

            async def raw_send(body: bytes = body, headers: dict[str, str] = headers) -> bool:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    return response.status == 200

            async def client_send(request: SubmitRequest = request) -> bool:
                return (await client.submit(request)).ok

            async def lean_send(request: SubmitRequest = request) -> bool:
                return (await lean.submit(request)).ok

            senders = {"raw": raw_send, "client": client_send, "http11": lean_send}
            for concurrency in levels:
                results: dict[str, list[Round]] = {sender: [] for sender in senders}
                for send in senders.values():  # warm up every path (connections, caches)
                    await run_round(send, concurrency, concurrency * 2, seconds, mock_pid)
                order = list(senders)
                for number in range(rounds):
                    # back to back, the order turning each round: a round's ratios compare
                    # the senders under the same machine conditions
                    shift = number % len(order)
                    for sender in order[shift:] + order[:shift]:
                        results[sender].append(
                            await run_round(senders[sender], concurrency, count, seconds, mock_pid)
                        )
                for sender, rounds_of in results.items():
                    paired = zip(rounds_of, results["raw"], strict=True)
                    ratio = statistics.median(ours.rate / raw.rate for ours, raw in paired)
                    print(
                        f"{name:<10} {concurrency:>4} {sender:<7} "
                        f"{statistics.median(r.rate for r in rounds_of):>6.0f} {ratio:>6.2f} "
                        f"{_us([r.cpu for r in rounds_of]):>5} "
                        f"{_us([r.mock_cpu for r in rounds_of]):>8}"
                    )


def _fields(request: SubmitRequest) -> dict[str, object]:
    return {
        "to": request.to,
        "subject": request.subject,
        "content": request.content,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=600, help="sends per round at most")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per round at most")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=list(CONCURRENCY), help="levels to measure"
    )
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve_mock, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the mock did not start")
        url = parent.recv()
        asyncio.run(
            bench(url, process.pid or 0, args.rounds, args.count, args.seconds, args.concurrency)
        )
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


if __name__ == "__main__":
    main()
