"""``mm7 receive``: run the receiver standalone until SIGINT / SIGTERM.

Prints the URL to give the MMSC as report URL on one line of stdout at start, e.g.::

    $ mm7 receive --host 127.0.0.1 --port 8080 --store reports.sqlite
    http://127.0.0.1:8080/

``--store`` is a sqlite file (the default) or a ``postgresql://`` URL shared by several
receivers; a PostgreSQL store is created and migrated by ``mm7 db upgrade --store URL``.

Options fall back to environment variables: ``MM7_RECEIVER_HOST``, ``MM7_RECEIVER_PORT``,
``MM7_RECEIVER_STORE``, ``MM7_RECEIVER_USER`` / ``MM7_RECEIVER_PASSWORD`` (HTTP Basic auth),
``MM7_RECEIVER_ALLOW_IPS`` (comma-separated), ``MM7_RECEIVER_MAX_BODY_BYTES``,
``MM7_RECEIVER_INSECURE`` (``1``), ``MM7_RECEIVER_ANSWER_FORM``, and the timeouts and limits
``MM7_RECEIVER_HEADER_TIMEOUT``, ``..._IDLE_TIMEOUT``, ``..._BODY_TIMEOUT``,
``..._BODY_MIN_RATE``, ``..._BODY_GRACE``, ``..._MAX_CONNECTIONS``,
``..._ACCEPT_ERROR_INTERVAL`` (see :class:`~mm7client.server.ServerLimits`).

It refuses to start with a user but no password (or the reverse), and on a non-loopback address
with neither HTTP Basic auth nor an IP allow-list unless ``--insecure`` says so.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Any

from mm7client.cli.server_options import add_server_limit_options, server_limits_from_args
from mm7client.codec import Limits
from mm7client.profiles import get_profile
from mm7client.receiver.server import ReceiverServer
from mm7client.receiver.stores import is_postgres_url, open_store
from mm7client.server import ANSWER_FORMS, ServerLimits, basic_auth_setting, check_exposure

__all__ = ["ENV_PREFIX", "add_parser", "main", "run"]

#: Environment variables ``MM7_RECEIVER_<OPTION>`` give the options' defaults.
ENV_PREFIX = "MM7_RECEIVER_"

log = logging.getLogger(__name__)


def _notice(args: argparse.Namespace, text: str, level: int = logging.INFO) -> None:
    """A line for the person running the command: plain on stderr, or a log record with
    ``--log-format json`` (where every line of stderr is a JSON object)."""
    if getattr(args, "log_format", "text") == "json":
        log.log(level, "%s", text)
    else:
        sys.stderr.write(f"mm7 receive: {text}\n")


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``receive`` sub-command on ``subparsers``."""
    from mm7client.cli.options import add_env_option, with_default

    parser = subparsers.add_parser(
        "receive",
        help="receive delivery reports, MO messages and read replies into a store",
        description="Accept DeliveryReportReq, DeliverReq and ReadReplyReq, store each durably "
        "(a sqlite file, or PostgreSQL shared by several receivers), then acknowledge it. "
        "Runs until SIGINT or SIGTERM.",
    )
    add_env_option(
        parser, "--host", env="MM7_RECEIVER_HOST", default="127.0.0.1", help="listen address"
    )
    add_env_option(
        parser,
        "--port",
        env="MM7_RECEIVER_PORT",
        type=int,
        default=8080,
        help="TCP port, 0 for a free one",
    )
    add_env_option(
        parser,
        "--store",
        env="MM7_RECEIVER_STORE",
        default="mm7-receiver.sqlite",
        metavar="FILE|URL",
        help="sqlite file or postgresql://user@host/db URL",
    )
    parser.add_argument(
        "--path", default="/", help=with_default("URL path accepting POSTs", default="/")
    )
    parser.add_argument(
        "--profile", default="lgt", help=with_default("profile of the answers", default="lgt")
    )
    add_env_option(
        parser,
        "--answer-form",
        env="MM7_RECEIVER_ANSWER_FORM",
        choices=ANSWER_FORMS,
        default="mirror",
        help="form of the answers: the request's (mirror), or a style forced",
    )
    add_env_option(
        parser, "--user", env="MM7_RECEIVER_USER", help="HTTP Basic user (with --password)"
    )
    add_env_option(
        parser,
        "--password",
        env="MM7_RECEIVER_PASSWORD",
        help="HTTP Basic password (with --user)",
    )
    parser.add_argument(
        "--allow-ip",
        action="append",
        default=None,
        metavar="NET",
        help=with_default(
            "address or CIDR network allowed to post, others get 403 (repeatable; the "
            "variable: comma-separated)",
            env="MM7_RECEIVER_ALLOW_IPS",
            default="everyone",
        ),
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=os.environ.get("MM7_RECEIVER_INSECURE", "").lower() in ("1", "true", "yes"),
        help=with_default(
            "allow a non-loopback --host with neither --user/--password nor --allow-ip",
            env="MM7_RECEIVER_INSECURE",
            default="off",
        ),
    )
    add_env_option(
        parser,
        "--max-body-bytes",
        env="MM7_RECEIVER_MAX_BODY_BYTES",
        type=int,
        default=Limits().max_body_bytes,
        help="largest accepted body",
    )
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL", "EXTRA"),
        default="FULL",
        help=with_default(
            "sqlite durability: FULL survives power loss, NORMAL a process crash "
            "(PostgreSQL: the server's settings decide)",
            default="FULL",
        ),
    )
    add_server_limit_options(parser, env_prefix=ENV_PREFIX)
    parser.set_defaults(func=run)


async def _serve(args: argparse.Namespace) -> int:
    allow_ips = args.allow_ip
    if allow_ips is None and os.environ.get("MM7_RECEIVER_ALLOW_IPS"):
        allow_ips = [ip for ip in os.environ["MM7_RECEIVER_ALLOW_IPS"].split(",") if ip.strip()]
    basic_auth = basic_auth_setting(args.user, args.password)
    # refused before the store is opened or created
    check_exposure(
        args.host,
        authenticated=basic_auth is not None,
        allow_listed=allow_ips is not None,
        insecure=args.insecure,
    )
    server_limits = server_limits_from_args(args, ServerLimits.from_env(ENV_PREFIX))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    options = {} if is_postgres_url(args.store) else {"synchronous": args.synchronous}
    async with (
        open_store(args.store, **options) as store,
        ReceiverServer(
            store,
            host=args.host,
            port=args.port,
            path=args.path,
            basic_auth=basic_auth,
            allow_ips=allow_ips,
            limits=Limits(max_body_bytes=args.max_body_bytes),
            profile=get_profile(args.profile),
            server_limits=server_limits,
            answer_form=args.answer_form,
            insecure=args.insecure,
        ) as server,
    ):
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        if server.exposure is not None:
            _notice(args, f"INSECURE (--insecure): {server.exposure}", logging.WARNING)
        _notice(args, f"storing into {store!r}; Ctrl-C to stop")
        await stop.wait()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the receiver until SIGINT / SIGTERM; 2 when it cannot start."""
    try:
        return asyncio.run(_serve(args))
    except (OSError, ValueError, RuntimeError) as exc:
        sys.stderr.write(f"mm7 receive: {exc}\n")
        return 2
    except Exception as exc:  # the database driver's (psycopg is optional): unreachable, refused
        sys.stderr.write(f"mm7 receive: cannot open the store: {type(exc).__name__}: {exc}\n")
        return 2


def main(argv: list[str] | None = None) -> int:
    """Run ``receive`` stand-alone (``python -m mm7client.cli.receive --port 8080``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = argparse.ArgumentParser(prog="mm7")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(["receive", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
