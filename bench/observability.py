"""What observing a request costs a server, against what reading the request costs, same run.

Per request, the receiver and the mock call ``ServerObserver.observe`` once (counters, the
latency histogram, the per-VASID counter) and, at ``-v``, format one log line (text or JSON).
The reference is ``summarize_request`` of a small LGT SubmitReq: the least the mock does with
every request (it reads the envelope's fields before deciding). Each round times both back to
back; the figures are medians of the rounds, the ratio the median of the rounds' ratios.

    python bench/observability.py [--rounds 7] [--number 20000]
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import timeit

from mm7client.codec import encode, summarize_request
from mm7client.model import Part, SubmitRequest
from mm7client.observability import (
    TEXT_LOG_FORMAT,
    JsonLogFormatter,
    RequestRecord,
    ServerObserver,
)
from mm7client.profiles import LGT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing")
    args = parser.parse_args()

    message = SubmitRequest(
        to=["01012345678"],
        vasp_id="BENCHVASP",
        vas_id="BENCHVAS",
        callback="15881234",
        kisa_orig_code="123456789",
        subject="bench",
        content=[Part.from_text("안녕하세요, 벤치마크입니다.")],
    )
    encoded = encode(message, LGT)
    body, content_type = encoded.body, encoded.content_type
    record = RequestRecord(
        "SubmitReq",
        1000,
        200,
        vas_id="BENCHVAS",
        recipient="01012345678",
        recipients=1,
        transaction_id="3779781f57db4ea7bbedc5f15feb3021",
        peer="127.0.0.1",
        duration=0.0031,
    )

    quiet = ServerObserver("bench", "bench.quiet")
    quiet.log.propagate = False
    quiet.log.setLevel(logging.WARNING)

    def logged(name: str, formatter: logging.Formatter) -> ServerObserver:
        observer = ServerObserver("bench", name)
        handler = logging.StreamHandler(io.StringIO())
        handler.setFormatter(formatter)
        observer.log.addHandler(handler)
        observer.log.propagate = False
        observer.log.setLevel(logging.INFO)
        return observer

    text = logged("bench.text", logging.Formatter(TEXT_LOG_FORMAT))
    json_ = logged("bench.json", JsonLogFormatter())

    cases = {
        "observe (metrics only)": lambda: quiet.observe(record),
        "observe + text line (-v)": lambda: text.observe(record),
        "observe + JSON line (-v --log-format json)": lambda: json_.observe(record),
    }
    reference = "summarize_request (small SubmitReq)"
    timings: dict[str, list[float]] = {name: [] for name in [reference, *cases]}
    ratios: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        ref = timeit.timeit(lambda: summarize_request(body, content_type), number=args.number)
        timings[reference].append(ref / args.number)
        for name, call in cases.items():
            spent = timeit.timeit(call, number=args.number)
            timings[name].append(spent / args.number)
            ratios[name].append(spent / ref)
    print(f"{args.rounds} rounds of {args.number} calls; medians")
    print(f"  {reference:45s} {statistics.median(timings[reference]) * 1e6:7.2f} µs  (reference)")
    for name in cases:
        micro = statistics.median(timings[name]) * 1e6
        print(f"  {name:45s} {micro:7.2f} µs  {statistics.median(ratios[name]):.2f} x reference")


if __name__ == "__main__":
    main()
