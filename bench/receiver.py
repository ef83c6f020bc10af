"""Durable delivery reports per second: ``mm7 receive`` on sqlite and on PostgreSQL.

Each receiver is an ``mm7 receive`` process; the load generator (this process) posts prepared
LG U+ DeliveryReportReqs, each with its own MessageID, at a fixed concurrency spread evenly over
the receivers, and counts the 1000 answers. Every answer comes after the report's commit:

* ``sqlite``: one file in WAL mode with ``synchronous=FULL`` (an fsync per report), the
  same-run reference; with 2 receivers both processes write the same file;
* ``postgresql``: one database (a throwaway durable cluster, ``fsync`` on, unless
  ``MM7_BENCH_DATABASE_URL`` names one), group commits across concurrent requests.

It prints the median reports/s over a few rounds for 1 and 2 receivers, the ratio against
sqlite with 1 receiver, and the CPU the receivers, the database server and the load generator
spent per report (the machine may be shared: the CPU per report says what its cores allow).
Afterwards it checks that every acknowledged report is stored. Target: PostgreSQL with 2
receivers at least 1,500 reports/s. Bounded in count and time; only 127.0.0.1 is used.

    python bench/receiver.py [--rounds 3] [--count 3000] [--seconds 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from _common import proc_cpu_seconds as cpu_seconds

from mm7client import encode
from mm7client.model import Address, DeliveryReportRequest
from mm7client.profiles import LGT
from mm7client.receiver import upgrade_store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from services import PostgresServer, free_port, with_search_path


def bodies(count: int, tag: str) -> list[tuple[bytes, str]]:
    """``count`` encoded reports, each with its own MessageID."""
    prepared = []
    for n in range(count):
        report = DeliveryReportRequest(
            transaction_id=f"b{n}",
            message_id=f"{tag}-{n:07d}",
            recipient=Address(f"010{n % 100000000:08d}"),
            sender=Address("15881234"),
            mm_status="Retrieved",
            status_text="OK",
        )
        encoded = encode(report, LGT)
        prepared.append((encoded.body, encoded.content_type))
    return prepared


@dataclass
class Run:
    rate: float
    receiver_cpu_ms: float
    loader_cpu_ms: float
    server_cpu_ms: float | None
    acknowledged: int


async def start_receivers(store: str, count: int) -> list[tuple[asyncio.subprocess.Process, str]]:
    started = []
    for _ in range(count):
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "mm7"),
            "receive",
            "--port",
            str(port),
            "--store",
            store,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 20.0)).decode().strip()
        started.append((process, url))
    return started


_ACKNOWLEDGED = re.compile(rb"StatusCode>\s*1000\s*<")
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


async def load(
    urls: list[str], prepared: list[tuple[bytes, str]], concurrency: int, seconds: float
) -> int:
    """Post until every report is acknowledged or ``seconds`` pass; the acknowledged count.

    A lean HTTP/1.1 client on keep-alive connections (one per concurrent request): the load
    generator shares the machine's cores with the receivers and the database, so it should
    spend as little CPU as it can (about a third of an aiohttp client's).
    """
    acknowledged = 0
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def worker(url: str) -> None:
        nonlocal acknowledged, next_index
        target = urlsplit(url)
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        head = f"POST {target.path or '/'} HTTP/1.1\r\nHost: {target.netloc}\r\n".encode()
        try:
            while next_index < len(prepared) and time.perf_counter() < deadline:
                body, content_type = prepared[next_index]
                next_index += 1
                headers = f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
                writer.write(head + headers.encode() + body)
                answer_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30.0)
                length = _CONTENT_LENGTH.search(answer_head)
                assert length is not None, answer_head
                answer = await asyncio.wait_for(reader.readexactly(int(length[1])), 30.0)
                if answer_head[9:12] == b"200" and _ACKNOWLEDGED.search(answer):
                    acknowledged += 1
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(worker(urls[n % len(urls)]) for n in range(concurrency)))
    return acknowledged


async def one_run(
    store: str,
    receivers: int,
    prepared: list[tuple[bytes, str]],
    concurrency: int,
    seconds: float,
    server: PostgresServer | None,
) -> Run:
    await upgrade_store(store)
    started = await start_receivers(store, receivers)
    try:
        urls = [url for _, url in started]
        await load(urls, prepared[:concurrency], concurrency, seconds)  # warm-up
        cpu_before = [cpu_seconds(process.pid) for process, _ in started]
        loader_before = time.process_time()
        server_before = server.cpu_seconds() if server is not None else 0.0
        began = time.perf_counter()
        acknowledged = await load(urls, prepared[concurrency:], concurrency, seconds)
        elapsed = time.perf_counter() - began
        loader_cpu = time.process_time() - loader_before
        server_cpu = server.cpu_seconds() - server_before if server is not None else None
        receiver_cpu = sum(
            cpu_seconds(process.pid) - before
            for (process, _), before in zip(started, cpu_before, strict=True)
        )
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            await process.wait()
    return Run(
        rate=acknowledged / elapsed,
        receiver_cpu_ms=1000 * receiver_cpu / max(acknowledged, 1),
        loader_cpu_ms=1000 * loader_cpu / max(acknowledged, 1),
        server_cpu_ms=None if server_cpu is None else 1000 * server_cpu / max(acknowledged, 1),
        acknowledged=acknowledged + concurrency,
    )


def stored_count(store: str) -> int:
    if store.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store) as conn:
            row = conn.execute("SELECT count(*) FROM items").fetchone()
            return int(row[0]) if row else 0
    with sqlite3.connect(store) as conn:
        return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])


async def main(args: argparse.Namespace) -> None:
    server = None
    base_url = os.environ.get("MM7_BENCH_DATABASE_URL")
    if not base_url:
        server = PostgresServer(durable=True)
        server.start()
        base_url = server.url
    workdir = Path(tempfile.mkdtemp(prefix="mm7-bench-rx-"))
    import psycopg

    configs = [("sqlite", 1), ("sqlite", 2), ("postgresql", 1), ("postgresql", 2)]
    results: dict[tuple[str, int], list[Run]] = {config: [] for config in configs}
    try:
        for round_number in range(args.rounds):
            for kind, receivers in configs:  # interleaved: a slow moment hits every config
                tag = uuid.uuid4().hex[:8]
                if kind == "sqlite":
                    store = str(workdir / f"{tag}.sqlite")
                else:
                    with psycopg.connect(base_url, autocommit=True) as conn:
                        conn.execute(f"CREATE SCHEMA s_{tag}")  # type: ignore[arg-type]
                    store = with_search_path(base_url, f"s_{tag}")
                prepared = bodies(args.count + args.concurrency, tag)
                run = await one_run(
                    store,
                    receivers,
                    prepared,
                    args.concurrency,
                    args.seconds,
                    server if kind == "postgresql" else None,
                )
                stored = stored_count(store)
                if stored < run.acknowledged:
                    raise SystemExit(f"{kind}: {run.acknowledged} acknowledged, {stored} stored")
                results[(kind, receivers)].append(run)
                print(
                    f"  round {round_number + 1} {kind:10} x{receivers}: {run.rate:7.0f} reports/s",
                    flush=True,
                )
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(workdir, ignore_errors=True)
    reference = statistics.median(r.rate for r in results[("sqlite", 1)])
    print(
        f"\nreceiver, durable reports/s, concurrency {args.concurrency}, "
        f"median of {args.rounds} rounds of up to {args.count} reports:"
    )
    print(
        f"  {'store':10} {'receivers':>9} {'reports/s':>10} {'vs sqlite x1':>13} "
        f"{'CPU ms/report: receivers':>25} {'database':>9} {'loader':>7} {'cores allow':>12}"
    )
    cores = os.cpu_count() or 1
    for kind, receivers in configs:
        runs = results[(kind, receivers)]
        rate = statistics.median(r.rate for r in runs)
        rx_ms = statistics.median(r.receiver_cpu_ms for r in runs)
        loader_ms = statistics.median(r.loader_cpu_ms for r in runs)
        server = [r.server_cpu_ms for r in runs if r.server_cpu_ms is not None]
        db_ms = statistics.median(server) if server else 0.0
        print(
            f"  {kind:10} {receivers:>9} {rate:>10.0f} {rate / reference:>13.2f} "
            f"{rx_ms:>25.3f} {db_ms if server else float('nan'):>9.3f} {loader_ms:>7.3f} "
            f"{cores * 1000 / (rx_ms + db_ms + loader_ms):>12.0f}"
        )
    print(
        "  (sqlite's database work is in the receivers; 'cores allow': the rate this machine's "
        f"{cores} cores would give if\n   nothing else ran, from the CPU per report; "
        f"load average at the end {os.getloadavg()[0]:.1f})"
    )
    pg2 = statistics.median(r.rate for r in results[("postgresql", 2)])
    print(
        f"\ntarget: PostgreSQL with 2 receivers >= 1500 reports/s: {pg2:.0f} "
        f"({'met' if pg2 >= 1500 else 'NOT met'}); {os.cpu_count()} cores shared by all"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=3000, help="reports per run (bound)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per run (bound)")
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
