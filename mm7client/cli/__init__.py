"""The ``mm7`` command: ``mm7 send``, ``mm7 codes``, ``mm7 receive``, ``mm7 db``.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser calls
``args.func(args)``, which returns the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mm7client.cli.options import add_env_option
from mm7client.observability import LOG_FORMATS, configure_logging, package_version

__all__ = ["build_parser", "main"]

# Sub-command modules, in the order ``mm7 --help`` lists them.
_SUBCOMMANDS = ("send", "codes", "receive", "db")


def build_parser() -> argparse.ArgumentParser:
    """The ``mm7`` argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="mm7", description="MM7 toolkit: send MMS, look up result codes, receive reports."
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more logging (-v info: a line per request under receive; -vv debug) "
        "[default: warnings only]",
    )
    add_env_option(
        parser,
        "--log-format",
        env="MM7_LOG_FORMAT",
        default="text",
        choices=LOG_FORMATS,
        help="log lines as text, or one JSON object per line for log shippers",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"mm7client.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mm7client.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mm7`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_format not in LOG_FORMATS:  # from MM7_LOG_FORMAT: argparse checks no default
        parser.error(
            f"MM7_LOG_FORMAT={args.log_format!r}: expected one of {', '.join(LOG_FORMATS)}"
        )
    configure_logging(args.verbose, args.log_format)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result: int = func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
