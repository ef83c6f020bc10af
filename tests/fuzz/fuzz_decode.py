"""Open-ended fuzzer of the MM7 decoder, for runs outside CI.

Mutates a corpus (the golden inputs plus messages the encoder builds in both profiles) and random
bytes, and checks that ``decode``, ``split_body`` and ``mime.split_multipart`` raise nothing but
``ParseError``. Bounded by ``--seconds`` (and optionally ``--iterations``); a failing input is
written to ``--crash-dir`` and the script exits with status 1.

    python tests/fuzz/fuzz_decode.py --seconds 300
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from mm7client.codec import Limits, decode, encode, split_body
from mm7client.codec.mime import parse_content_type, split_multipart
from mm7client.errors import ParseError
from mm7client.model import (
    Address,
    CancelRequest,
    DeliverRequest,
    DeliveryReportRequest,
    Part,
    ReadReplyRequest,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
LIMITS = Limits(max_body_bytes=256_000, max_xml_bytes=128_000, max_parts=40)
TOKENS = [
    b"<",
    b">",
    b"</",
    b"/>",
    b"--",
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b'"',
    b"=",
    b";",
    b":",
    b"&amp;",
    b"&#x0;",
    b"<!DOCTYPE x>",
    b"<![CDATA[",
    b"]]>",
    b"cid:",
    b"Content-Type: multipart/related; boundary=Z\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"=\r\n",
    b"=ZZ",
    "한글".encode("euc-kr"),
    "한글".encode(),
    b"\xff\xfe",
    b"\x00",
]
CONTENT_TYPES = [
    None,
    "text/xml",
    "text/xml; charset=euc-kr",
    "text/xml; charset=utf-16",
    "multipart/related; boundary=Z",
    "multipart/related",
    "application/octet-stream",
]


def corpus() -> list[tuple[bytes, str | None]]:
    """Seeds: the hand-written golden inputs and freshly encoded messages."""
    seeds: list[tuple[bytes, str | None]] = []
    for path in sorted(GOLDEN.glob("*.http")):
        head, body = path.read_bytes().split(b"\r\n\r\n", 1)
        seeds.append((body, head.decode("ascii").partition(":")[2].strip()))
    for profile in (LGT, THREEGPP):
        for message in (
            SubmitRequest(
                to=["01012345678"],
                vas_id="svc",
                kisa_orig_code="123456789",
                subject="안녕하세요",
                content=[Part.from_text("본문"), Part.jpeg(JPEG, filename="a.jpg")],
            ),
            SubmitResponse(status=Status.of(1000, "Success"), message_id="m-1"),
            CancelRequest(message_id="m-1"),
            DeliverRequest(sender="01012345678", to=["1588"], content=[Part.from_text("MO")]),
            DeliveryReportRequest(
                message_id="m-1", recipient=Address("01012345678"), mm_status="Retrieved"
            ),
            ReadReplyRequest(message_id="m-1", recipient=Address("01012345678"), mm_status="Read"),
            SoapFault(fault_code="Server", status=Status.of(4030, "System error")),
        ):
            encoded = encode(message, profile)
            seeds.append((encoded.body, encoded.content_type))
    return seeds


def mutate(rng: random.Random, data: bytes) -> bytes:
    """A few random edits: flips, token inserts, deletions, duplications, truncation."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        position = rng.randrange(len(buffer) + 1)
        choice = rng.random()
        if choice < 0.25 and buffer:
            buffer[min(position, len(buffer) - 1)] = rng.randrange(256)
        elif choice < 0.5:
            buffer[position:position] = rng.choice(TOKENS)
        elif choice < 0.7:
            del buffer[position : position + rng.randint(1, 64)]
        elif choice < 0.85:
            buffer[position:position] = buffer[position : position + rng.randint(1, 512)]
        else:
            del buffer[position:]
    return bytes(buffer)


def check(body: bytes, content_type: str | None) -> None:
    """Raise whatever escapes the parsers other than ParseError."""
    with contextlib.suppress(ParseError):
        decode(body, content_type, LIMITS)
    with contextlib.suppress(ParseError):
        split_body(body, content_type, LIMITS)
    boundary = parse_content_type(content_type or "")[1].get("boundary")
    if boundary is not None:
        with contextlib.suppress(ParseError):
            split_multipart(body, boundary, LIMITS)


def run(seconds: float, iterations: int | None, seed: int, crash_dir: Path) -> int:
    rng = random.Random(seed)
    seeds = corpus()
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline and (iterations is None or count < iterations):
        count += 1
        if rng.random() < 0.1:
            body = rng.randbytes(rng.randint(0, 4096))
            content_type = rng.choice(CONTENT_TYPES)
        else:
            body, content_type = rng.choice(seeds)
            body = mutate(rng, body)
            if rng.random() < 0.1:
                content_type = rng.choice(CONTENT_TYPES)
        try:
            check(body, content_type)
        except Exception:
            crash_dir.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(body).hexdigest()[:16]
            path = crash_dir / f"crash-{name}.http"
            path.write_bytes(f"Content-Type: {content_type or ''}\r\n\r\n".encode() + body)
            traceback.print_exc()
            print(f"crash after {count} inputs, input saved to {path}", file=sys.stderr)
            return 1
    print(f"{count} inputs in {seconds:g} s (seed {seed}): only ParseError raised")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to run (60)")
    parser.add_argument("--iterations", type=int, default=None, help="stop after N inputs")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    parser.add_argument(
        "--crash-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mm7-fuzz-crashes",
        help="where failing inputs are written (default: a folder in the temp directory)",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 2**32
    return run(args.seconds, args.iterations, seed, args.crash_dir)


if __name__ == "__main__":
    sys.exit(main())
