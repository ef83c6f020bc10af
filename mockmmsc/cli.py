"""The ``mockmmsc`` command: ``serve`` runs the mock MMSC until interrupted,
``example-config`` prints a complete, commented config file.

Settings come from the defaults, then ``--config FILE`` (TOML or JSON), then ``MOCKMMSC_*``
environment variables, then the command-line options; ``serve --help`` names each option's
variable and real default. The MM7 endpoint URL is printed on one line once the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any

from mm7client.cli.options import with_default
from mm7client.cli.server_options import SERVER_LIMIT_FIELDS, add_server_limit_options
from mm7client.observability import LOG_FORMATS, configure_logging, package_version
from mm7client.throttle import RetryPolicy
from mockmmsc.settings import ENV_PREFIX, MockSettings, SettingsError, load_config

__all__ = [
    "CONFIG_ENV",
    "SERVE_DEFAULTS",
    "build_parser",
    "example_config",
    "main",
    "settings_from_args",
]

#: The settings ``mockmmsc serve`` starts from (the library's, on port 8080).
SERVE_DEFAULTS = MockSettings(port=8080)
#: The variable naming a config file when ``--config`` is not given.
CONFIG_ENV = ENV_PREFIX + "CONFIG"
#: The variable choosing ``--log-format``.
LOG_FORMAT_ENV = ENV_PREFIX + "LOG_FORMAT"

SERVE_DESCRIPTION = """\
Serve an LG U+-like MM7 relay (MMSC): MM7 on POST / and POST /mm7, one JSON API under /api/
(OpenAPI at /api/openapi.json), the web inbox on GET / and GET /healthz. The MM7 endpoint URL is
printed on one line once it listens; Ctrl-C stops it.

Settings: the defaults < --config FILE < MOCKMMSC_* environment variables < these options.
Accounts (VASIDs, passwords, expiry, TPS contracts, report URLs), rules and faults live in the
config file: `mockmmsc example-config` prints a complete one, every key explained."""


def _magic_recipients() -> str:
    """The magic recipients, with what a client that honours 4030 does with one."""
    resends = RetryPolicy().max_throttled_resends
    return f"""\
magic recipients (no configuration needed):
  0109999CCCC      SubmitRsp with status CCCC and LG U+'s text (every LGT code)
  01099994030      4030 every time. A client that honours 4030 (mm7client does) pauses the
                   WHOLE VASID 60 s before each resend, up to {resends} resends: one message to
                   it holds every message of its VASID for up to {resends} minutes. --time-scale
                   does not shorten the client's pause: rehearse with a shorter client pause
                   (RetryPolicy(pause_seconds=...), `mm7 send --pause`), or open a window
                   (POST /api/overload) that --time-scale does shorten.
  01088880001..8   1000, then the delivery report Retrieved/OK, Retrieved/NOK, PPSRejected,
                   Rejected, Stalking, Expired, Fail, NoRecipient
  any other        1000 and Retrieved/OK"""


def _env(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _setting(
    parser: argparse.ArgumentParser,
    flag: str,
    field: str,
    help: str,
    shown: str | None = None,
    **kwargs: Any,
) -> None:
    """An option setting ``field``; its help names ``MOCKMMSC_<FIELD>`` and the real default."""
    default = getattr(SERVE_DEFAULTS, field) if shown is None else shown
    text = with_default(help, env=_env(field), default=default)
    parser.add_argument(flag, dest=field, help=text, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``mockmmsc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="mockmmsc",
        description="An LG U+-like mock MMS Relay/Server (MM7).",
        epilog=_magic_recipients(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the mock MMSC until interrupted",
        description=SERVE_DESCRIPTION,
        epilog=_magic_recipients(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _setting(serve, "--host", "host", "listen address", metavar="ADDRESS")
    _setting(serve, "--port", "port", "listen port; 0 picks a free one", type=int)
    _setting(
        serve,
        "--answer-form",
        "answer_form",
        "form of the answers: the request's own (mirror) or one forced",
        choices=("mirror", "lgt", "default-ns", "prefixed"),
    )
    serve.add_argument(
        "--config",
        metavar="FILE",
        help=with_default(
            "settings file (TOML or JSON; `mockmmsc example-config` prints one)",
            env=CONFIG_ENV,
            default=None,
        ),
    )
    _setting(serve, "--profile", "profile", "carrier profile of answers and reports: lgt or 3gpp")
    _setting(
        serve,
        "--time-scale",
        "time_scale",
        "multiply every delay, 4030 window and report backoff; 0.01 runs a 60 s window in 0.6 s",
        type=float,
        metavar="FACTOR",
    )
    _setting(
        serve,
        "--report-url",
        "report_url",
        "where delivery reports go (a VASID's own URL wins)",
        "none: reports are not sent",
        metavar="URL",
    )
    _setting(
        serve, "--rules", "rules_file", "rule file (TOML or JSON [[rules]] tables)", metavar="FILE"
    )
    _setting(
        serve,
        "--store",
        "store_path",
        "sqlite file keeping delivery reports (pending ones resume on restart)",
        "none: in memory",
        metavar="FILE",
    )
    _setting(
        serve,
        "--default-tps",
        "default_tps",
        "contracted TPS of every VASID without its own (above it: 7103)",
        "unlimited",
        type=float,
        metavar="TPS",
    )
    _setting(
        serve,
        "--max-body-bytes",
        "max_body_bytes",
        "largest MM7 request body (larger: HTTP 413, fault 2004)",
        type=int,
        metavar="BYTES",
    )
    serve.add_argument(
        "--basic-auth",
        metavar="USER:PASSWORD",
        help=with_default(
            "require HTTP Basic auth on every MM7 request",
            env=_env("basic_auth"),
            default="none: no HTTP auth",
        ),
    )
    serve.add_argument(
        "--no-kisa",
        action="store_true",
        help=with_default(
            "do not answer 4032 for a missing or malformed KisaOrigCode",
            env=_env("require_kisa") + "=0",
            default="on: 4032 under the lgt profile",
        ),
    )
    serve.add_argument(
        "--check-content",
        action="store_true",
        help=with_default(
            "decode every content part before answering (2007 for undecodable content)",
            env=_env("check_content") + "=1",
            default="off: decoded when first looked at",
        ),
    )
    serve.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help=with_default(
            "more logging: -v a line per MM7 request, -vv debug", default="warnings only"
        ),
    )
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get(LOG_FORMAT_ENV) or "text",
        help=with_default(
            "log lines as text, or one JSON object per line for log shippers",
            env=LOG_FORMAT_ENV,
            default="text",
        ),
    )
    add_server_limit_options(serve, env_prefix=ENV_PREFIX)
    commands.add_parser(
        "example-config",
        help="print a complete, commented config file for serve --config",
        description="Print a complete, commented config file (TOML) for `mockmmsc serve "
        "--config`: the server, throttling, delivery reports, accounts with passwords, expiry, "
        "TPS contracts and report URLs, rules and faults.",
    )
    return parser


def example_config() -> str:
    """The complete, commented example config file (TOML) ``mockmmsc example-config`` prints."""
    return resources.files("mockmmsc").joinpath("example-config.toml").read_text("utf-8")


def settings_from_args(args: argparse.Namespace) -> MockSettings:
    """Defaults < ``--config`` (or ``MOCKMMSC_CONFIG``) < environment < options."""
    settings = SERVE_DEFAULTS
    config = args.config or os.environ.get(CONFIG_ENV)
    if config:
        settings = load_config(config, settings)
    settings = MockSettings.from_env(base=settings)
    changes: dict[str, object] = {}
    for name in (
        "host",
        "port",
        "profile",
        "answer_form",
        "time_scale",
        "report_url",
        "rules_file",
        "store_path",
        "default_tps",
        "max_body_bytes",
        *(name for name, _kind, _help in SERVER_LIMIT_FIELDS),
    ):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.basic_auth:
        user, sep, password = args.basic_auth.partition(":")
        if not sep:
            raise SettingsError(f"--basic-auth={args.basic_auth!r}: expected USER:PASSWORD")
        changes["basic_auth"] = (user, password)
    if args.no_kisa:
        changes["require_kisa"] = False
    if args.check_content:
        changes["check_content"] = True
    return settings.replace(**changes) if changes else settings


async def serve(settings: MockSettings) -> None:
    """Serve until SIGINT/SIGTERM."""
    from mockmmsc.app import create_app
    from mockmmsc.runner import MockRunner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = create_app(settings)
    async with MockRunner(app, settings.host, settings.port, settings.server_limits) as runner:
        print(runner.url, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mockmmsc`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "example-config":
        sys.stdout.write(example_config())
        return 0
    if args.log_format not in LOG_FORMATS:  # from the variable: argparse checks no default
        parser.error(
            f"{LOG_FORMAT_ENV}={args.log_format!r}: expected one of {', '.join(LOG_FORMATS)}"
        )
    configure_logging(args.verbose, args.log_format)
    try:
        settings = settings_from_args(args)
        asyncio.run(serve(settings))
    except (SettingsError, ValueError, OSError) as exc:
        print(f"mockmmsc: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
