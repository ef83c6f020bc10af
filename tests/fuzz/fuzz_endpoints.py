"""Open-ended fuzzer of the HTTP endpoints, for runs outside CI.

Starts a mock MMSC, a receiver and a "hostile MMSC" (a tiny server answering the client with
mutated bytes) on 127.0.0.1, then, until ``--seconds`` run out (or ``--iterations``):

* POSTs mutated MM7 bodies (valid requests of both profiles and every hostile class of
  ``tests/faults/hostile_payloads.py``, bit-flipped, cut, spliced, with random Content-Types) to
  the mock's MM7 endpoint and to the receiver: every answer must be 200, or a 4xx/5xx carrying
  a SOAP Fault (401/413/415 may be plain), never a traceback;
* POSTs random and deeply nested JSON to the mock's admin API: always a 4xx/2xx JSON answer;
* sends a SubmitReq through :class:`mm7client.MM7Client` to the hostile MMSC: always one result,
  never an exception;
* every 50 rounds checks both servers still answer a valid request and that nothing the receiver
  stored earlier changed.

A failing input is written to ``--crash-dir`` and the script exits with status 1::

    python tests/fuzz/fuzz_endpoints.py --seconds 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "faults"))

from hostile_payloads import HOSTILE

from mm7client import MM7Client
from mm7client.codec import Limits, decode, encode, split_body
from mm7client.errors import MM7Error
from mm7client.model import (
    Address,
    DeliveryReportRequest,
    Part,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP
from mm7client.receiver import ReceiverServer, SqliteStore
from mockmmsc import MockMMSC, MockSettings
from mockmmsc.testing import lgt_submit

CONTENT_TYPES = [
    None,
    "text/xml",
    'text/xml; charset="euc-kr"',
    "text/xml; charset=utf-8",
    "text/xml; charset=x-unknown",
    "application/soap+xml",
    "application/octet-stream",
    "application/json",
    "text/html",
    "multipart/related",
    'multipart/related; boundary="B"',
    "multipart/related; boundary=" + "z" * 80,
]
TOKENS = [b"<", b">", b"</", b"&", b"&lol;", b"\r\n", b"--", b"--B", b'"', b"\x00", b"\xff", b"]]>"]
ADMIN_PATHS = [
    ("POST", "/api/rules"),
    ("POST", "/api/faults"),
    ("POST", "/api/overload"),
    ("PUT", "/api/tps"),
    ("PUT", "/api/report-urls"),
]
PLAIN_REFUSALS = {401, 413, 415, 400}


class Failure(Exception):
    """An endpoint broke its contract for one input."""

    def __init__(self, what: str, data: bytes) -> None:
        super().__init__(what)
        self.data = data


def corpus() -> list[tuple[bytes, str | None]]:
    """Valid requests of both profiles and every hostile class."""
    items: list[tuple[bytes, str | None]] = []
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
    for request in (
        lgt_submit(),
        lgt_submit(content=[Part.from_text("본문"), Part.jpeg(jpeg)]),
        lgt_submit(subject=None, delivery_report=False),
    ):
        for profile in (LGT, THREEGPP):
            encoded = encode(request, profile)
            items.append((encoded.body, encoded.content_type))
    report = DeliveryReportRequest(
        message_id="M1", recipient=Address("01012345678"), mm_status="Retrieved"
    )
    for profile in (LGT, THREEGPP):
        encoded = encode(report, profile)
        items.append((encoded.body, encoded.content_type))
    envelope = split_body(items[0][0], items[0][1]).envelope
    items.extend(build(envelope) for build in HOSTILE.values())
    return items


def mutate(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if not data:
            data.extend(rng.choice(TOKENS))
        elif choice < 0.3:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.5:
            start = rng.randrange(len(data))
            del data[start : start + rng.randint(1, 64)]
        elif choice < 0.7:
            data[rng.randrange(len(data)) : 0] = rng.choice(TOKENS)
        elif choice < 0.85:
            start = rng.randrange(len(data))
            chunk = data[start : start + rng.randint(1, 256)]
            data[rng.randrange(len(data)) : 0] = chunk * rng.randint(1, 20)
        else:
            data = data[: rng.randrange(len(data) + 1)]
    return bytes(data)


def random_json(rng: random.Random, depth: int = 0) -> Any:
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(
            [None, True, 0, -1, 1e308, 3.5, "", "x" * rng.randint(0, 50), "re:(a*)*", "010*"]
        )
    if rng.random() < 0.5:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["kind", "status", "delay", "times", "then", "fault", "vas_id", "tps", "url", "seconds"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def admin_body(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        depth = rng.randint(30, 50_000)
        return b"[" * depth + b"]" * depth
    if roll < 0.2:
        return mutate(rng, json.dumps(random_json(rng)).encode())
    return json.dumps(random_json(rng)).encode()


async def check_mm7_answer(status: int, raw: bytes, content_type: str, sent: bytes) -> None:
    if b"Traceback" in raw:
        raise Failure(f"traceback in an HTTP {status} answer", sent)
    if status == 200:
        return
    if status in PLAIN_REFUSALS and not raw.lstrip().startswith(b"<"):
        return
    try:
        answer = decode(raw, content_type)
    except MM7Error as exc:
        raise Failure(f"HTTP {status} answer is not a SOAP Fault: {exc}", sent) from exc
    if not isinstance(answer, SoapFault):
        raise Failure(f"HTTP {status} answer is a {type(answer).__name__}", sent)


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, content_type: str | None
) -> tuple[int, bytes, str] | None:
    headers = {"Content-Type": content_type} if content_type else {}
    skip = () if content_type else ("Content-Type",)
    try:
        async with http.post(url, data=body, headers=headers, skip_auto_headers=skip) as rsp:
            return rsp.status, await rsp.read(), rsp.headers.get("Content-Type", "")
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
        return None  # refused while writing (an over-limit body): a refusal
    except TimeoutError as exc:
        raise Failure("no answer within 10 s", body) from exc


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    items = corpus()
    crash_dir = Path(args.crash_dir)
    answers: dict[str, bytes] = {"body": b"", "type": "text/xml"}

    async def hostile_mmsc(request: web.Request) -> web.Response:
        await request.read()
        response = web.Response(body=answers["body"])
        response.headers["Content-Type"] = answers["type"]
        return response

    app = web.Application()
    app.router.add_post("/mm7", hostile_mmsc)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hostile_url = f"http://127.0.0.1:{runner.addresses[0][1]}/mm7"
    rsp_body = encode(
        SubmitResponse(transaction_id="t", status=Status.of(1000, "Success"), message_id="M"), LGT
    ).body
    started = time.monotonic()
    rounds = 0
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "rx.sqlite"))
        async with (
            store,
            ReceiverServer(store, limits=Limits(max_body_bytes=2 * 1024 * 1024)) as rx,
            MockMMSC(MockSettings(time_scale=0.0, report_delay=0.0)) as mmsc,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            MM7Client(
                hostile_url,
                vasp_id="V",
                vas_id="V",
                kisa_orig_code="123456789",
                callback="15881234",
                total_timeout=5.0,
            ) as client,
        ):
            mmsc.set_report_url("VAS001", rx.url)
            try:
                while time.monotonic() - started < args.seconds and (
                    args.iterations is None or rounds < args.iterations
                ):
                    rounds += 1
                    body, content_type = rng.choice(items)
                    body = mutate(rng, body) if rng.random() < 0.9 else body
                    if rng.random() < 0.2:
                        content_type = rng.choice(CONTENT_TYPES)
                    for url in (mmsc.url, rx.url):
                        answer = await post(http, url, body, content_type)
                        if answer is not None:
                            await check_mm7_answer(*answer, body)
                    method, path = rng.choice(ADMIN_PATHS)
                    data = admin_body(rng)
                    async with http.request(method, mmsc.base_url + path, data=data) as rsp:
                        if rsp.status >= 500:
                            raise Failure(f"admin {path} answered {rsp.status}", data)
                        await rsp.json()
                    answers["body"] = mutate(rng, rsp_body)
                    answers["type"] = rng.choice([c for c in CONTENT_TYPES if c] + ["text/xml"])
                    result = await client.submit(
                        SubmitRequest(to=["01012345678"], subject="f", content=[])
                    )
                    if result.normalized is None:
                        raise Failure("client result without normalized", answers["body"])
                    if rounds % 50 == 0:
                        await health(http, mmsc, rx, store)
            except Failure as failure:
                crash_dir.mkdir(parents=True, exist_ok=True)
                path = crash_dir / f"crash-{int(time.time())}-{rounds}.bin"
                path.write_bytes(failure.data)
                print(f"FAILURE after {rounds} rounds: {failure} (input: {path})")
                return 1
    await runner.cleanup()
    print(f"{rounds} rounds in {time.monotonic() - started:.1f} s, no failure")
    return 0


async def health(
    http: aiohttp.ClientSession, mmsc: MockMMSC, rx: ReceiverServer, store: SqliteStore
) -> None:
    """Both servers still serve valid requests; the receiver's earlier items are unchanged."""
    before = [(i.id, i.message_id, i.mm_status) for i in await store.items()]
    submit = encode(lgt_submit(delivery_report=False), LGT)
    answer = await post(http, mmsc.url, submit.body, submit.content_type)
    if answer is None or answer[0] != 200:
        raise Failure(f"the mock no longer accepts a valid SubmitReq: {answer}", submit.body)
    report = encode(
        DeliveryReportRequest(
            message_id=f"H{time.monotonic_ns()}", recipient=Address("010"), mm_status="Retrieved"
        ),
        LGT,
    )
    answer = await post(http, rx.url, report.body, report.content_type)
    if answer is None or answer[0] != 200:
        raise Failure(f"the receiver no longer accepts a valid report: {answer}", report.body)
    after = [(i.id, i.message_id, i.mm_status) for i in await store.items()]
    if after[: len(before)] != before:
        raise Failure("stored receiver items changed", b"")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run")
    parser.add_argument("--iterations", type=int, default=None, help="stop after N rounds")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--crash-dir", default="fuzz-crashes", help="where failing inputs go")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
