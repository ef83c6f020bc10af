"""What the connection guard costs: one bare handler served by aiohttp's own ``TCPSite`` and by
``mm7client.http_server.AppServer`` (own accept loop, a guard protocol around aiohttp's, the
request-tracking middleware, ``read_body`` under its time bounds), same load generator.

Each server runs in its own process on 127.0.0.1 (port 0); the handler reads the body and
returns a pre-encoded SubmitRsp. The load generator is ``bench/mock_server.py``'s (an aiohttp
client with bounded concurrency, bounded by request count AND time, keep-alive connections).
Each round measures both servers back to back; prints the median rates, the median of the
rounds' paired ratios, and the CPU time per request of each server (where /proc is available):
the server CPU is the figure that says what the guard costs when the generator bounds the rate.

    python bench/http_server.py [--rounds 7] [--requests 2000] [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing.connection
import os
import statistics
import time

from mock_server import build_bodies, measure_alternately, start

from mm7client.codec import encode
from mm7client.model import Status, SubmitResponse
from mm7client.profiles import LGT

BODY_LIMIT = 4 * 1024 * 1024


def _app():  # type: ignore[no-untyped-def]
    from aiohttp import web

    from mm7client.server import ServerLimits
    from mm7client.server_aiohttp import read_body

    answer = encode(
        SubmitResponse(transaction_id="t", status=Status.of(1000, "Success"), message_id="1"), LGT
    )
    policy = ServerLimits().body_policy(BODY_LIMIT)

    async def handle(request: web.Request) -> web.Response:
        await read_body(request, policy)
        return web.Response(body=answer.body, content_type="text/xml", charset="euc-kr")

    app = web.Application(client_max_size=BODY_LIMIT)
    app.router.add_post("/mm7", handle)
    return app


def serve_tcpsite(port_pipe: multiprocessing.connection.Connection) -> None:
    from aiohttp import web

    async def main() -> None:
        runner = web.AppRunner(_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_pipe.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_app_server(port_pipe: multiprocessing.connection.Connection) -> None:
    from mm7client.http_server import AppServer

    async def main() -> None:
        async with AppServer(_app(), host="127.0.0.1", port=0) as server:
            port_pipe.send(server.port)
            await asyncio.Event().wait()

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    body, content_type = build_bodies()["small SubmitReq"]
    servers: dict[str, str] = {}
    processes = {}
    for name, target in (("TCPSite", serve_tcpsite), ("AppServer", serve_app_server)):
        process, port = start(target)
        processes[name] = process
        servers[name] = f"http://127.0.0.1:{port}/mm7"
    print(
        f"cpus={os.cpu_count()} rounds={args.rounds} requests<={args.requests} "
        f"seconds<={args.seconds} concurrency={args.concurrency} body={len(body)} bytes"
    )
    try:
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
        rates = {name: m.rates for name, m in measured.items()}
        cpu = {name: m.server_cpu for name, m in measured.items()}
        for name, values in rates.items():
            shown = ", ".join(f"{v:.0f}" for v in values)
            line = f"  {name:10s} median {statistics.median(values):7.0f} req/s   rounds: {shown}"
            if cpu[name]:
                line += f"; server CPU per request {statistics.median(cpu[name]) * 1e6:.0f} µs"
            print(line)
        pairs = zip(rates["AppServer"], rates["TCPSite"], strict=True)
        ratios = [guarded / plain for guarded, plain in pairs]
        print(
            f"  ratio AppServer/TCPSite: {statistics.median(ratios):.2f}"
            f" (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
        if cpu["TCPSite"] and cpu["AppServer"]:
            extra = statistics.median(cpu["AppServer"]) - statistics.median(cpu["TCPSite"])
            print(f"  server CPU the guard adds per request: {extra * 1e6:+.0f} µs")
    finally:
        for process in processes.values():
            process.terminate()
            process.join(timeout=5)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
