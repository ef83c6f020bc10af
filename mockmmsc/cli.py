"""``mockmmsc serve``: run the mock MMSC until interrupted.

Settings come from the defaults, then ``--config FILE`` (TOML or JSON), then ``MOCKMMSC_*``
environment variables, then the command-line options. The MM7 endpoint URL is printed on one
line once the server listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from mm7client.cli.server_options import SERVER_LIMIT_FIELDS, add_server_limit_options
from mockmmsc.settings import ENV_PREFIX, MockSettings, SettingsError, load_config

__all__ = ["build_parser", "main", "settings_from_args"]


def build_parser() -> argparse.ArgumentParser:
    """The ``mockmmsc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="mockmmsc", description="An LG U+-like mock MMS Relay/Server (MM7)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the mock MMSC until interrupted")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port; 0 picks a free one (default 8080)")
    serve.add_argument("--config", help="settings file (TOML or JSON)")
    serve.add_argument("--profile", help="carrier profile of answers and reports (default lgt)")
    serve.add_argument(
        "--answer-form",
        choices=("mirror", "lgt", "default-ns", "prefixed"),
        help="form of the answers: the request's own (mirror, default) or one forced",
    )
    serve.add_argument("--time-scale", type=float, help="multiply every delay/window (0.01)")
    serve.add_argument("--report-url", help="default delivery-report URL")
    serve.add_argument("--rules", dest="rules_file", help="rule file (TOML or JSON)")
    serve.add_argument("--store", dest="store_path", help="sqlite file for delivery reports")
    serve.add_argument("--default-tps", type=float, help="contracted TPS of every VASID")
    serve.add_argument("--max-body-bytes", type=int, help="largest MM7 request body")
    serve.add_argument("--basic-auth", help="require HTTP Basic auth: USER:PASSWORD")
    serve.add_argument(
        "--no-kisa", action="store_true", help="do not answer 4032 for a missing KisaOrigCode"
    )
    serve.add_argument(
        "--check-content",
        action="store_true",
        help="decode every content part before answering (2007 for undecodable content)",
    )
    serve.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    add_server_limit_options(serve, env_prefix=ENV_PREFIX)
    return parser


def settings_from_args(args: argparse.Namespace) -> MockSettings:
    """Defaults < ``--config`` < environment < options."""
    settings = MockSettings(port=8080)
    if args.config:
        settings = load_config(args.config, settings)
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
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = settings_from_args(args)
        asyncio.run(serve(settings))
    except (SettingsError, ValueError, OSError) as exc:
        print(f"mockmmsc: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
