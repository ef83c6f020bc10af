"""Codec benchmark: SubmitReq build time and SubmitRsp parse rate, with zeep as the reference.

Measures, on one core, in one run:

* build: ``encode`` of an LGT SubmitReq with a Korean subject, a Korean text part and a 50 KB
  JPEG (base64, SMIL generated, multipart/related): median time per message.
  Target: <= 150 us.
* parse: ``decode`` of an LGT SubmitRsp body (EUC-KR, unqualified children): messages per second.
  Target: >= 30,000/s.
* zeep, for reference, on the same messages: building the SubmitReq element with
  ``client.get_element(...)`` and serializing it (XML only: zeep does no MIME or base64), and
  parsing the SubmitRsp body with lxml + the element's ``.parse``.

Every figure is the median of several rounds timed with ``time.perf_counter_ns``. Run:

    python bench/codec.py [--rounds 15] [--quick]

``--instructions N`` counts instead the CPU instructions per call of each figure (N calls, each
figure in a process of its own under valgrind's callgrind): a figure that stays the same on a
busy machine, so two versions are compared by running this at both.

    python bench/codec.py --instructions 2000
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import callgrind_missing, instructions_per_call, serve_counted_calls
from lxml import etree

from mm7client.codec import decode, encode
from mm7client.model import Part, Status, SubmitRequest, SubmitResponse
from mm7client.profiles import LGT

LOAD_BEFORE = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
BUILD_TARGET_US = 150.0
PARSE_TARGET_PER_S = 30_000.0
IMAGE_BYTES = 50 * 1024


def fake_jpeg(size: int, seed: int = 23140) -> bytes:
    """``size`` bytes that look like a JPEG (header, incompressible body, end marker)."""
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(size - 13) + b"\xff\xd9"


def submit_request(image: bytes) -> SubmitRequest:
    return SubmitRequest(
        to=["01012345678"],
        vasp_id="MYCOMPANY",
        vas_id="MYSERVICE",
        sender_address="0212345678",
        callback="15881234",
        kisa_orig_code="123456789",
        subject="(광고) 오늘의 특가 안내",
        delivery_report=True,
        distribution_indicator=False,
        content=[
            Part.from_text(
                "안녕하세요. 오늘의 특가 상품을 안내해 드립니다.\r\n"
                "자세한 내용은 첨부 이미지를 확인해 주세요.\r\n무료거부 080-123-4567",
                filename="body.txt",
            ),
            Part.jpeg(image, filename="sale.jpg"),
        ],
    )


def submit_response_body() -> tuple[bytes, str]:
    encoded = encode(
        SubmitResponse(
            transaction_id="0123456789abcdef0123456789abcdef",
            status=Status.of(1000, "성공"),
            message_id="041502073667",
        ),
        LGT,
    )
    return encoded.body, encoded.content_type


#: CPU time of this thread per call, recorded next to every wall-clock figure: on a shared
#: machine the wall clock also counts the time other processes held the core.
CPU_NS: dict[str, float] = {}


def median_ns_per_call(fn: Callable[[], object], calls: int, rounds: int, label: str = "") -> float:
    """Median over ``rounds`` of the mean wall time (perf_counter_ns) of one call in a round of
    ``calls`` calls. The median thread CPU time per call is stored in ``CPU_NS[label]``."""
    fn()  # warm up
    samples = []
    cpu_samples = []
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            cpu_start = time.thread_time_ns()
            start = time.perf_counter_ns()
            for _ in range(calls):
                fn()
            samples.append((time.perf_counter_ns() - start) / calls)
            cpu_samples.append((time.thread_time_ns() - cpu_start) / calls)
    finally:
        if gc_was_enabled:
            gc.enable()
    CPU_NS[label] = statistics.median(cpu_samples)
    return statistics.median(samples)


def zeep_calls(
    request: SubmitRequest, rsp_body: bytes
) -> tuple[Callable[[], object], Callable[[], object]] | None:
    """zeep's (build, parse) of the same messages, or ``None`` when zeep is not installed."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        import schema_oracle
    except ImportError:
        return None
    client = schema_oracle.load_wsdl("lgt")
    ns = schema_oracle.MM7_NAMESPACES["lgt"]
    submit = client.get_element(f"{{{ns}}}SubmitReq")
    sender_id = client.get_type(f"{{{ns}}}senderIDType")
    recipients = client.get_type(f"{{{ns}}}recipientsType")
    multi = client.get_type(f"{{{ns}}}multiAddressType")
    address = client.get_type(f"{{{ns}}}addressType")
    value = client.get_type(f"{{{ns}}}addressValueType")

    def build() -> bytes:
        element = submit(
            MM7Version="5.3.0",
            SenderIdentification=sender_id(
                VASPID=request.vasp_id,
                VASID=request.vas_id,
                SenderAddress=address(Number=value("0212345678")),
                CallBack=request.callback,
            ),
            Recipients=recipients(
                _value_1=[{"To": multi(_value_1=[{"Number": value(request.to[0].value)}])}]
            ),
            DeliveryReport="True",
            DistributionIndicator="False",
            KisaOrigCode=request.kisa_orig_code,
            Subject=request.subject,
            Content={"href": "cid:content-1@mm7"},
        )
        root = etree.Element("Body")
        submit.render(root, element)
        return etree.tostring(root[0], encoding="euc-kr")

    response = client.get_element(f"{{{ns}}}SubmitRsp")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def parse() -> object:
        root = etree.fromstring(rsp_body, parser)
        body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        assert body is not None
        return response.parse(body[0], client.wsdl.types)

    return build, parse


def zeep_reference(
    request: SubmitRequest, rsp_body: bytes, calls: int, rounds: int
) -> tuple[float, float] | None:
    """(zeep build ns, zeep parse ns) per message, or ``None`` when zeep is not installed."""
    found = zeep_calls(request, rsp_body)
    if found is None:
        return None
    build, parse = found
    return (
        median_ns_per_call(build, max(calls // 4, 10), rounds, "zeep build"),
        median_ns_per_call(parse, max(calls // 4, 10), rounds, "zeep parse"),
    )


#: What ``--instructions`` counts: (figure, child mode).
COUNTED = (
    ("build SubmitReq, same image", "build"),
    ("parse SubmitRsp", "parse"),
    ("zeep: build SubmitReq (XML only)", "zeep-build"),
    ("zeep: parse SubmitRsp", "zeep-parse"),
)


def counted_call(mode: str) -> Callable[[], object]:
    """The call ``--instructions`` counts in a child process (``--count-child MODE``)."""
    request = submit_request(fake_jpeg(IMAGE_BYTES))
    rsp_body, rsp_type = submit_response_body()
    if mode == "build":
        return lambda: encode(request, LGT)
    if mode == "parse":
        return lambda: decode(rsp_body, rsp_type)
    found = zeep_calls(request, rsp_body)
    if found is None:
        raise SystemExit("zeep is not installed (pip install -e '.[test]')")
    return found[0] if mode == "zeep-build" else found[1]


def count_instructions(calls: int) -> None:
    """Instructions per call of each figure, each counted under callgrind in a process of
    its own."""
    missing = callgrind_missing()
    if missing is not None:
        raise SystemExit(f"--instructions needs valgrind: {missing}")
    print(f"MM7 codec, instructions per call under callgrind ({calls} calls each)")
    counted: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for figure, mode in COUNTED:
            argv = [sys.executable, __file__, "--count-child", mode, str(calls)]
            counted[mode] = instructions_per_call(argv, os.path.join(scratch, f"{mode}.out"))
            print(f"  {figure:<36}{counted[mode]:>12,.0f}")
    print(
        f"  zeep / ours: build {counted['zeep-build'] / counted['build']:.2f}x, "
        f"parse {counted['zeep-parse'] / counted['parse']:.2f}x (> 1: ours executes fewer)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="MM7 codec benchmark")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per figure (15)")
    parser.add_argument("--quick", action="store_true", help="fewer calls per round")
    parser.add_argument("--no-zeep", action="store_true", help="skip the zeep reference")
    parser.add_argument(
        "--instructions", type=int, metavar="N", help="count instructions of N calls (valgrind)"
    )
    parser.add_argument("--count-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_child:
        mode, calls = args.count_child
        serve_counted_calls(counted_call(mode), int(calls))
        return 0
    if args.instructions:
        count_instructions(args.instructions)
        return 0
    build_calls = 200 if args.quick else 1000
    parse_calls = 2000 if args.quick else 10_000

    image = fake_jpeg(IMAGE_BYTES)
    request = submit_request(image)
    encoded = encode(request, LGT)
    rsp_body, rsp_type = submit_response_body()
    parsed = decode(rsp_body, rsp_type)
    assert isinstance(parsed, SubmitResponse) and parsed.status.code == "1000"

    build_ns = median_ns_per_call(lambda: encode(request, LGT), build_calls, args.rounds, "build")
    # a different image each time: no base64 cache hit (a campaign's first message)
    images = [fake_jpeg(IMAGE_BYTES, seed) for seed in range(max(build_calls // 10, 20))]
    cold_requests = itertools.cycle([submit_request(image) for image in images])
    cold_ns = median_ns_per_call(
        lambda: encode(next(cold_requests), LGT), len(images), args.rounds, "build cold"
    )
    parse_ns = median_ns_per_call(
        lambda: decode(rsp_body, rsp_type), parse_calls, args.rounds, "parse"
    )
    parse_rate = 1e9 / parse_ns

    print(f"MM7 codec benchmark (LGT profile, Python {sys.version.split()[0]}, one core)")
    print(
        f"  message: SubmitReq, Korean subject + text, {IMAGE_BYTES // 1024} KB JPEG (base64)"
        f" -> {len(encoded.body):,} bytes; SubmitRsp {len(rsp_body)} bytes"
    )
    print(f"  rounds: {args.rounds} x {build_calls} builds, {args.rounds} x {parse_calls} parses")
    print()
    print(f"  load average before the run: {LOAD_BEFORE}")
    print()
    print(f"{'figure (median)':<34}{'wall':>13}{'cpu':>13}{'target':>12}{'ratio':>8}  verdict")

    def build_row(name: str, wall_ns: float, cpu_ns: float) -> None:
        wall_us, cpu_us = wall_ns / 1000, cpu_ns / 1000
        verdict = "OK" if wall_us <= BUILD_TARGET_US else "MISSED"
        print(
            f"{name:<34}{wall_us:>10.1f} us{cpu_us:>10.1f} us{BUILD_TARGET_US:>9.0f} us"
            f"{BUILD_TARGET_US / wall_us:>7.2f}x  {verdict}"
        )

    build_row("build SubmitReq, same image", build_ns, CPU_NS["build"])
    build_row("build SubmitReq, new image each", cold_ns, CPU_NS["build cold"])
    cpu_rate = 1e9 / CPU_NS["parse"]
    verdict = "OK" if parse_rate >= PARSE_TARGET_PER_S else "MISSED"
    print(
        f"{'parse SubmitRsp':<34}{parse_rate:>11,.0f}/s{cpu_rate:>11,.0f}/s"
        f"{PARSE_TARGET_PER_S:>10,.0f}/s{parse_rate / PARSE_TARGET_PER_S:>7.2f}x  {verdict}"
    )
    print("  (ratio = target / ours for time, ours / target for rate, on wall time; > 1 is better)")

    if not args.no_zeep:
        reference = zeep_reference(request, rsp_body, build_calls, args.rounds)
        print()
        if reference is None:
            print("zeep reference: zeep is not installed (pip install -e '.[test]')")
        else:
            zeep_build_ns, zeep_parse_ns = reference
            print("zeep reference (same run, same messages):")
            print(
                f"  build SubmitReq element + serialize (XML only, no MIME/base64): "
                f"{zeep_build_ns / 1000:,.1f} us wall, {CPU_NS['zeep build'] / 1000:,.1f} us cpu"
                f"  (ours: {zeep_build_ns / build_ns:.1f}x faster with the MIME body and base64)"
            )
            print(
                f"  parse SubmitRsp (lxml + element.parse): {1e9 / zeep_parse_ns:,.0f}/s wall, "
                f"{1e9 / CPU_NS['zeep parse']:,.0f}/s cpu  (ours: {zeep_parse_ns / parse_ns:.1f}x"
                " faster, building the model too)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
