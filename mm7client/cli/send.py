"""``mm7 send``: send one MMS (or one per row of a file) and print the normalized result.

With ``--url`` it sends to that MMSC. Without, it starts an embedded mock MMSC and a receiver on
127.0.0.1 (free ports), sends to the mock, waits for the delivery report to be received and
stored, and prints both results - a demonstration that needs nothing else::

    mm7 send --to 01012345678 --subject 안녕하세요 --text "MM7 예제 메시지입니다."
    mm7 send --url https://mmsc.example/mm7 --to 01012345678 --text hi --image logo.jpg --json

With ``--csv`` or ``--jsonl`` it sends one message per row (:mod:`mm7client.cli.bulk`).

Options fall back to environment variables (``--help`` lists each one and its default):
``MM7_URL``, ``MM7_PROFILE``, ``MM7_VASP_ID``, ``MM7_VAS_ID``, ``MM7_KISA_CODE``,
``MM7_CALLBACK``, ``MM7_USER``, ``MM7_PASSWORD``, ``MM7_CA_FILE``, ``MM7_TIMEOUT``,
``MM7_PAUSE``, ``MM7_TPS``, ``MM7_CONCURRENCY``.

Exit status: 0 accepted (and, when waited for, delivered); 1 a final failure (submit or report;
bulk: any row not accepted); 2 invalid input (nothing was sent); 3 no delivery report within
``--report-timeout``; 130 a bulk send stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import mimetypes
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mm7client.cli.options import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_NO_REPORT,
    EXIT_OK,
    add_env_option,
    client_options,
    fraction_value,
    tps_value,
    with_default,
)

if TYPE_CHECKING:
    from mm7client.client import SubmitResult
    from mm7client.model import Part, SubmitRequest
    from mm7client.receiver import StoredItem

__all__ = ["add_parser", "main", "run"]

#: Identities used only with the embedded mock (it accepts any VASID).
DEMO_VASP_ID = "MM7DEMO"
DEMO_VAS_ID = "MM7DEMO01"
DEMO_KISA_CODE = "123456789"
DEMO_CALLBACK = "15881234"


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``send`` sub-command on ``subparsers``."""
    parser = subparsers.add_parser(
        "send",
        help="send one MMS, or one per row of a CSV/JSONL file, and print the results",
        description="Send one MMS (SubmitReq) and print the normalized result. Without --url, "
        "start an embedded mock MMSC and receiver on 127.0.0.1, send to it and also wait for "
        "and print the delivery report. With --csv or --jsonl, send one MMS per row (see "
        "the bulk options below).",
        epilog="Exit status: 0 success, 1 final failure (any row), 2 invalid input (nothing "
        "sent), 3 no report in time, 130 stopped by Ctrl-C. Bulk rows: columns to, subject, "
        "text, image (';'-separated or repeated), vas_id, callback, kisa_code; the options "
        "give what every row shares. --out streams one result per row and a rerun with the "
        "same --out resumes without sending any row twice.",
    )
    add_env_option(
        parser,
        "--url",
        env="MM7_URL",
        help="MMSC MM7 endpoint",
        shown_default="an embedded mock MMSC on 127.0.0.1",
    )
    parser.add_argument(
        "--to",
        action="append",
        metavar="NUMBER",
        help=with_default("recipient (repeatable; not with --csv)", default="none"),
    )
    parser.add_argument("--subject", help=with_default("subject (bulk: of rows without one)"))
    parser.add_argument("--text", help=with_default("text part (bulk: of rows without one)"))
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="FILE",
        help=with_default("JPEG image (repeatable; bulk: of rows without one)"),
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="FILE",
        help=with_default("any file part (repeatable; not with --csv)"),
    )
    add_env_option(parser, "--profile", env="MM7_PROFILE", default="lgt", help="carrier profile")
    demo = " (embedded mock: {})"
    add_env_option(
        parser,
        "--vasp-id",
        env="MM7_VASP_ID",
        help="VASPID",
        shown_default="none" + demo.format(DEMO_VASP_ID),
    )
    add_env_option(
        parser,
        "--vas-id",
        env="MM7_VAS_ID",
        help="VASID (bulk: of rows without a vas_id)",
        shown_default="none" + demo.format(DEMO_VAS_ID),
    )
    add_env_option(
        parser,
        "--kisa-code",
        env="MM7_KISA_CODE",
        help="KisaOrigCode, 9 digits",
        shown_default="none" + demo.format(DEMO_KISA_CODE),
    )
    add_env_option(
        parser,
        "--callback",
        env="MM7_CALLBACK",
        help="callback number",
        shown_default="none" + demo.format(DEMO_CALLBACK),
    )
    add_env_option(parser, "--user", env="MM7_USER", help="HTTP Basic user")
    add_env_option(parser, "--password", env="MM7_PASSWORD", help="HTTP Basic password")
    add_env_option(
        parser, "--ca-file", env="MM7_CA_FILE", help="PEM file of CA certificates to trust"
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the TLS certificate (testing only) [default: verify]",
    )
    add_env_option(
        parser,
        "--transport",
        env="MM7_TRANSPORT",
        choices=["http11", "aiohttp"],
        default="http11",
        help="HTTP client: http11 (lean, a third less CPU per message) or aiohttp",
    )
    add_env_option(
        parser,
        "--timeout",
        env="MM7_TIMEOUT",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds per HTTP request",
    )
    add_env_option(
        parser,
        "--pause",
        env="MM7_PAUSE",
        type=float,
        metavar="SECONDS",
        help="how long a VASID waits after 4030",
        shown_default="the code table's, 60 s for LGT",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON (bulk without --out: JSON lines) [default: text; bulk: CSV]",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="do not request (or wait for) a delivery report [default: request one]",
    )
    parser.add_argument(
        "--report-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help=with_default("seconds to wait for the delivery report (embedded mock)", default=10),
    )
    bulk = parser.add_argument_group("bulk sending (one message per row)")
    source = bulk.add_mutually_exclusive_group()
    source.add_argument(
        "--csv",
        metavar="FILE",
        help=with_default("CSV file with a header row ('-': stdin)", default="none: one message"),
    )
    source.add_argument(
        "--jsonl",
        metavar="FILE",
        help=with_default("a JSON object per line ('-': stdin)", default="none: one message"),
    )
    bulk.add_argument(
        "--encoding",
        default="utf-8-sig",
        help=with_default("encoding of the input file (e.g. cp949)", default="utf-8-sig"),
    )
    bulk.add_argument(
        "--out",
        metavar="FILE",
        help=with_default(
            "result file, .csv or .jsonl: one line per row as it ends; rerunning with the same "
            "file resumes",
            default="results on stdout, no resume",
        ),
    )
    add_env_option(
        bulk,
        "--tps",
        env="MM7_TPS",
        type=tps_value,
        metavar="N|VASID=N,...",
        help="contracted TPS: one for every VASID, or per VASID (others unlimited); sends are "
        "paced to it",
        shown_default="unlimited until the MMSC answers 7103",
    )
    add_env_option(
        bulk,
        "--concurrency",
        env="MM7_CONCURRENCY",
        type=int,
        default=16,
        metavar="N",
        help="messages in flight at once",
    )
    fleet = parser.add_argument_group(
        "sender fleet (several processes or machines on one contract)",
        "With --redis, every mm7 send pointed at the same Redis and prefix shares each "
        "VASID's --tps contract, its 4030 pauses and its 7103 slow-down.",
    )
    add_env_option(
        fleet,
        "--redis",
        env="MM7_REDIS_URL",
        metavar="URL",
        help="Redis holding the shared throttle state (redis://host:6379/0, rediss:// for TLS)",
        shown_default="none: throttling within this process",
    )
    add_env_option(
        fleet,
        "--redis-prefix",
        env="MM7_REDIS_PREFIX",
        default="mm7:throttle:",
        metavar="PREFIX",
        help="start of the Redis keys (one per fleet and contract)",
    )
    add_env_option(
        fleet,
        "--redis-fallback",
        env="MM7_REDIS_FALLBACK",
        type=fraction_value,
        metavar="FRACTION",
        help="while Redis is unreachable, send at this fraction of the contract in this "
        "process (1/N or less for N processes keeps the contract)",
        shown_default="none: hold the contracted VASIDs until Redis is back",
    )
    bulk.add_argument(
        "--resend-unknown",
        action="store_true",
        help="on resume, send again the rows whose outcome is unknown (possibly sent: at "
        "least once instead of at most once) [default: do not]",
    )
    bulk.add_argument(
        "--fsync",
        action="store_true",
        help="force the journal and result lines to disk before going on (survives a power "
        "loss, not only a crash) [default: off]",
    )
    bulk.add_argument(
        "--progress",
        choices=("auto", "live", "plain", "off"),
        default="auto",
        help=with_default(
            "live panel (needs rich), plain lines on stderr, or none",
            default="auto: live on a terminal, else plain",
        ),
    )
    bulk.add_argument(
        "--progress-interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help=with_default("seconds between plain progress lines", default=5),
    )
    parser.set_defaults(func=run)


def _parts(args: argparse.Namespace) -> list[Part]:
    from mm7client.model import Part

    parts: list[Part] = []
    if args.text:
        parts.append(Part.from_text(args.text))
    for name in args.image:
        path = Path(name)
        parts.append(Part.jpeg(path.read_bytes(), filename=path.name))
    for name in args.file:
        path = Path(name)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(Part.from_bytes(path.read_bytes(), media_type, filename=path.name))
    return parts


def _requests(args: argparse.Namespace, parts: list[Part]) -> list[SubmitRequest]:
    """One SubmitReq for every recipient when the profile allows one per request, else one."""
    from mm7client.model import SubmitRequest
    from mm7client.profiles import get_profile

    profile = get_profile(args.profile)
    per_request = profile.max_recipients
    groups = (
        [[to] for to in args.to]
        if per_request is not None and len(args.to) > per_request
        else [list(args.to)]
    )
    return [
        SubmitRequest(
            to=group,
            subject=args.subject,
            content=list(parts),
            delivery_report=not args.no_report,
        )
        for group in groups
    ]


def _submit_lines(request: SubmitRequest, result: SubmitResult) -> list[str]:
    n = result.normalized
    to = ", ".join(a.value for a in request.recipients)
    said = n.status_text or n.result_message
    lines = [
        f"제출 결과 (submit) -> {to}: {n.category} [{n.origin_result} {said}]",
        f"  convertResult {n.convert_result} · {n.explanation}",
    ]
    extra = f"  MessageID {result.message_id or '-'} · attempts {result.attempts}"
    if result.http_status is not None:
        extra += f" · HTTP {result.http_status}"
    extra += f" · {result.elapsed * 1000:.0f} ms"
    lines.append(extra)
    if result.ambiguous:
        lines.append("  주의: 전송 후 연결이 끊겨 접수 여부를 알 수 없음 (재전송하지 않았음)")
    return lines


def _report_lines(item: StoredItem) -> list[str]:
    n = item.normalized
    if n is None:
        return [f"전달 보고 (report): {item.mm_status}/{item.status_text}"]
    lines = [
        f"전달 보고 (report) <- {item.recipient}: {n.category} "
        f"[{n.origin_result} {n.result_message}]",
        f"  convertResult {n.convert_result} · {n.explanation}",
    ]
    if n.spam_blocked:
        lines.append("  스팸 차단: 전송은 차단되었으나 과금됨")
    return lines


def _report_dict(item: StoredItem) -> dict[str, Any]:
    data: dict[str, Any] = item.normalized.to_dict() if item.normalized is not None else {}
    data.update(
        {
            "messageId": item.message_id,
            "recipient": item.recipient,
            "mmStatus": item.mm_status,
            "receivedAt": item.received_at.isoformat(),
            "timestamp": item.timestamp.isoformat() if item.timestamp else None,
            # the TimeStamp's text when it was not ISO 8601 (then "timestamp" may be null)
            "timestampRaw": item.timestamp_raw,
        }
    )
    return data


async def _send_all(
    args: argparse.Namespace,
    url: str,
    requests: list[SubmitRequest],
    on_result: Callable[[Any, SubmitResult], Any] | None,
) -> list[SubmitResult]:
    from mm7client.cli.progress import PauseWatch, vas_views
    from mm7client.client import MM7Client

    async with MM7Client(url, on_result=on_result, **client_options(args)) as client:
        watch = PauseWatch(client.retry.max_throttled_resends)

        async def say_pauses() -> None:
            # a 4030 holds the message for a minute or more: say so instead of hanging silently
            while True:
                for line in watch.notices(vas_views(client)):
                    sys.stderr.write(f"mm7 send: {line}\n")
                    sys.stderr.flush()
                await asyncio.sleep(0.1)

        notices = asyncio.ensure_future(say_pauses())
        try:
            return [await client.submit(request) for request in requests]
        finally:
            notices.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notices


async def _embedded(
    args: argparse.Namespace, requests: list[SubmitRequest]
) -> tuple[list[SubmitResult], dict[str, list[StoredItem]], bool]:
    """Send through an embedded mock MMSC; returns results, reports by MessageID, timed out."""
    from mm7client.cli.embedded import load_embedded_mmsc
    from mm7client.receiver import ReceiverServer, SqliteStore

    embedded_mmsc = load_embedded_mmsc()

    reports: dict[str, list[StoredItem]] = {}
    arrived = asyncio.Event()

    async def on_item(item: StoredItem) -> None:
        if item.kind == "delivery_report" and item.message_id:
            reports.setdefault(item.message_id, []).append(item)
            arrived.set()

    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(
            store, host="127.0.0.1", port=0, on_item=on_item, profile=args.profile
        ) as rx,
        embedded_mmsc(profile=args.profile, report_url=rx.url) as mock,
    ):
        results = await _send_all(args, mock.url, requests, store.record_submit)
        expected = {
            r.message_id: len(q.recipients)
            for q, r in zip(requests, results, strict=True)
            if r.ok and r.message_id and q.delivery_report
        }
        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.report_timeout
        while any(len(reports.get(m, [])) < n for m, n in expected.items()):
            left = deadline - loop.time()
            if left <= 0:
                return results, reports, True
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), left)
            except TimeoutError:
                continue
        return results, reports, False


def run(args: argparse.Namespace) -> int:
    """Send, print, and return the exit status (see the module documentation)."""
    embedded = not args.url
    if embedded:
        args.vasp_id = args.vasp_id or DEMO_VASP_ID
        args.vas_id = args.vas_id or DEMO_VAS_ID
        args.kisa_code = args.kisa_code or DEMO_KISA_CODE
        args.callback = args.callback or DEMO_CALLBACK
    if args.user and args.password is None:
        sys.stderr.write("mm7 send: --user needs --password (or MM7_PASSWORD)\n")
        return EXIT_INVALID
    with _throttle_logs_shown_by_us(args):
        if args.csv is not None or args.jsonl is not None:
            from mm7client.cli.bulk import run_bulk

            return run_bulk(args)
        return _run_one(args, embedded)


@contextlib.contextmanager
def _throttle_logs_shown_by_us(args: argparse.Namespace) -> Iterator[None]:
    """Without -v, the command says itself when a VASID pauses or slows down: no log twice."""
    logger = logging.getLogger("mm7client.throttle")
    level = logger.level
    if not getattr(args, "verbose", 0):
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_one(args: argparse.Namespace, embedded: bool) -> int:
    """Send the ``--to`` message(s) and print the results."""
    from mm7client.cli.embedded import EmbeddedMMSCError
    from mm7client.cli.options import explain_missing
    from mm7client.errors import ValidationError

    if not args.to:
        sys.stderr.write("mm7 send: give --to NUMBER, or --csv / --jsonl FILE\n")
        return EXIT_INVALID
    try:
        parts = _parts(args)
        requests = _requests(args, parts)
        reports: dict[str, list[StoredItem]] = {}
        timed_out = False
        if embedded:
            results, reports, timed_out = asyncio.run(_embedded(args, requests))
        else:
            results = asyncio.run(_send_all(args, args.url, requests, None))
    except ValidationError as exc:
        sys.stderr.write(f"mm7 send: {explain_missing(exc)}\n")
        return EXIT_INVALID
    except (OSError, ValueError, EmbeddedMMSCError) as exc:
        sys.stderr.write(f"mm7 send: {exc}\n")
        return EXIT_INVALID
    status = EXIT_OK
    out: list[dict[str, Any]] = []
    lines: list[str] = []
    for request, result in zip(requests, results, strict=True):
        items = reports.get(result.message_id or "", [])
        if not result.ok:
            status = EXIT_FAILED
        for item in items:
            if item.normalized is None or item.normalized.category.value != "success":
                status = EXIT_FAILED
        data = result.to_dict()
        data["to"] = [a.value for a in request.recipients]
        data["report"] = [_report_dict(i) for i in items] if items else None
        out.append(data)
        lines.extend(_submit_lines(request, result))
        for item in items:
            lines.extend(_report_lines(item))
        if embedded and result.ok and request.delivery_report and not items:
            lines.append(f"전달 보고 (report): {args.report_timeout:g} 초 안에 받지 못함")
        elif not embedded and result.ok and request.delivery_report:
            lines.append("전달 보고 (report): MMSC에 등록된 보고 URL로 전송됨 (mm7 receive)")
    if timed_out and status == EXIT_OK:
        status = EXIT_NO_REPORT
    if args.json:
        payload: Any = out[0] if len(out) == 1 else out
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return status


def main(argv: list[str] | None = None) -> int:
    """Run ``send`` stand-alone (``python -m mm7client.cli.send --to 01012345678``)."""
    parser = argparse.ArgumentParser(prog="mm7")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(["send", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
