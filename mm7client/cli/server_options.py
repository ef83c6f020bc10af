"""Command-line options of :class:`~mm7client.server.ServerLimits`, shared by every server
command (``mm7 receive``, ``mockmmsc serve``).

:func:`add_server_limit_options` adds ``--header-timeout``, ``--idle-timeout``,
``--body-timeout``, ``--body-min-rate``, ``--body-grace``, ``--max-connections`` and
``--accept-error-interval`` (each defaulting to "not given");
:func:`server_limits_from_args` lays the given ones over a base (the defaults, or what the
environment said).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from mm7client.cli.options import with_default
from mm7client.server import ServerLimits

__all__ = ["SERVER_LIMIT_FIELDS", "add_server_limit_options", "server_limits_from_args"]

_DEFAULTS = ServerLimits()

#: (field of ServerLimits, type, help) of each option; the option is ``--field-name``.
SERVER_LIMIT_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("header_timeout", float, "seconds a connection gets to send a request header"),
    ("idle_timeout", float, "seconds an idle keep-alive connection is kept"),
    ("body_timeout", float, "longest a request body may take, in seconds"),
    ("body_min_rate", float, "bytes per second a body must keep on average after the grace"),
    ("body_grace", float, "seconds a body gets before its rate counts"),
    ("max_connections", int, "connections served at once; more wait in the listen backlog"),
    (
        "accept_error_interval",
        float,
        "log an accept error (Too many open files) at most once per this many seconds",
    ),
)


def add_server_limit_options(parser: argparse.ArgumentParser, *, env_prefix: str = "") -> None:
    """Add the :class:`ServerLimits` options to ``parser`` (in a "timeouts and limits" group);
    ``env_prefix`` names the environment variables in the help (``MM7_RECEIVER_`` ->
    ``MM7_RECEIVER_HEADER_TIMEOUT``); reading them is the caller's
    (:meth:`ServerLimits.from_env`, or the mock's settings)."""
    group = parser.add_argument_group("timeouts and limits")
    for name, kind, text in SERVER_LIMIT_FIELDS:
        default = getattr(_DEFAULTS, name)
        shown = "1024, fewer under a lower descriptor limit" if default is None else f"{default:g}"
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=kind,
            default=None,
            metavar="N",
            help=with_default(
                text, env=env_prefix + name.upper() if env_prefix else None, default=shown
            ),
        )


def server_limits_from_args(
    args: argparse.Namespace, base: ServerLimits | None = None
) -> ServerLimits:
    """``base`` (default: :class:`ServerLimits()`) with the options given in ``args``; a bad
    value raises :class:`ValueError` naming it."""
    changes = {
        name: getattr(args, name)
        for name, _kind, _text in SERVER_LIMIT_FIELDS
        if getattr(args, name, None) is not None
    }
    try:
        return replace(base or ServerLimits(), **changes)
    except ValueError as exc:
        raise ValueError(f"--{str(exc).replace('_', '-')}") from None
