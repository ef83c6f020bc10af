"""End-to-end submits per second: MM7Client against the mock MMSC on loopback.

For a text message and a 50 KB JPEG message, at concurrency 1, 16 and 64, it measures

* ``client``: :meth:`MM7Client.submit` (encode with a fresh TransactionID, throttle checks,
  POST, decode, normalize) and
* ``raw``: a bare aiohttp client posting the same pre-built bytes with the same headers,

against the same mock (its own process, so the two sides do not share a CPU core), and prints
the median of a few rounds and the client/raw ratio. The target is a ratio of at least 0.8 at
concurrency 16. Every round is bounded in count and time; only 127.0.0.1 is used.

    python bench/client_e2e.py [--rounds 3] [--count 600] [--seconds 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

import aiohttp

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


async def run_round(
    send: Callable[[], Awaitable[bool]], concurrency: int, count: int, seconds: float
) -> float:
    """Submits per second of ``count`` sends (stopping early after ``seconds``)."""
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

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - begin
    if failures:
        raise RuntimeError(f"{failures} sends failed")
    return done / elapsed


async def bench(url: str, rounds: int, count: int, seconds: float) -> None:
    profile = get_profile("lgt")
    identity = {
        "vasp_id": "BENCH",
        "vas_id": "BENCH01",
        "kisa_orig_code": "123456789",
        "callback": "15881234",
    }
    print(f"mock: {url} (own process); rounds={rounds}, count<={count}, time<={seconds}s")
    print(f"{'message':<10} {'conc':>4} {'client/s':>10} {'raw/s':>10} {'ratio':>6}")
    connector = aiohttp.TCPConnector(limit=100)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        MM7Client(url, retry=RetryPolicy.no_retries(), max_connections=100, **identity) as client,
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

            for concurrency in CONCURRENCY:
                # warm up both paths (connections, caches)
                await run_round(raw_send, concurrency, concurrency * 2, seconds)
                await run_round(client_send, concurrency, concurrency * 2, seconds)
                raw_rates, client_rates = [], []
                for _ in range(rounds):
                    raw_rates.append(await run_round(raw_send, concurrency, count, seconds))
                    client_rates.append(await run_round(client_send, concurrency, count, seconds))
                raw_rate = statistics.median(raw_rates)
                client_rate = statistics.median(client_rates)
                print(
                    f"{name:<10} {concurrency:>4} {client_rate:>10.0f} {raw_rate:>10.0f} "
                    f"{client_rate / raw_rate:>6.2f}"
                )


def _fields(request: SubmitRequest) -> dict[str, object]:
    return {
        "to": request.to,
        "subject": request.subject,
        "content": request.content,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=600, help="sends per round at most")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per round at most")
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve_mock, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(30):
            raise SystemExit("the mock did not start")
        url = parent.recv()
        asyncio.run(bench(url, args.rounds, args.count, args.seconds))
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


if __name__ == "__main__":
    main()
