"""What the command line gives: options that fall back to environment variables (and say so
in ``--help``), the client's settings from them, and the exit statuses.

:func:`add_env_option` registers an option whose default comes from an environment variable
when it is set, and whose help ends with ``[env NAME; default VALUE]`` - the real default, not
the one the environment happens to give. :data:`IDENTITY_OPTIONS` tells a user which option and
variable supply an identity the carrier profile requires.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from mm7client.errors import ValidationError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NO_REPORT",
    "EXIT_OK",
    "IDENTITY_OPTIONS",
    "add_env_option",
    "client_options",
    "explain_missing",
    "fraction_value",
    "tps_value",
    "with_default",
]

#: Exit statuses of ``mm7 send``.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_NO_REPORT = 3
EXIT_INTERRUPTED = 130

#: MM7 field -> (row column, option, environment variable) of the identities ``mm7 send`` fills.
IDENTITY_OPTIONS: dict[str, tuple[str, str, str]] = {
    "VASID": ("vas_id", "--vas-id", "MM7_VAS_ID"),
    "VASPID": ("vasp_id", "--vasp-id", "MM7_VASP_ID"),
    "KisaOrigCode": ("kisa_code", "--kisa-code", "MM7_KISA_CODE"),
    "CallBack": ("callback", "--callback", "MM7_CALLBACK"),
}


def with_default(help_text: str, *, env: str | None = None, default: object = None) -> str:
    """``help_text [env NAME; default VALUE]`` (``%`` escaped for argparse)."""
    shown = "none" if default is None else str(default)
    where = f"env {env}; default {shown}" if env else f"default {shown}"
    return f"{help_text} [{where}]".replace("%", "%%")


def add_env_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    *flags: str,
    env: str,
    help: str,
    default: Any = None,
    shown_default: str | None = None,
    **kwargs: Any,
) -> argparse.Action:
    """Add an option defaulting to ``$env`` (when set) else ``default``.

    A ``type`` converts the environment's text as it converts the command line's (argparse
    applies it to string defaults), so a bad value is reported naming the option.
    ``shown_default`` replaces the default in the help text (e.g. ``"the embedded mock"``).
    """
    value = os.environ.get(env)
    text = with_default(help, env=env, default=shown_default or default)
    return parser.add_argument(
        *flags, default=value if value not in (None, "") else default, help=text, **kwargs
    )


def explain_missing(exc: ValidationError) -> str:
    """The error text, plus the option and variable when a required identity is missing.

    ``VASID=None: required by profile 'lgt'`` becomes ``VASID missing: required by profile
    'lgt': give --vas-id or set MM7_VAS_ID``.
    """
    known = IDENTITY_OPTIONS.get(exc.field)
    if known is None or exc.value is not None:
        return str(exc)
    _, option, env = known
    return f"{exc.field} missing: {exc.reason}: give {option} or set {env}"


def tps_value(text: str) -> float | dict[str, float]:
    """``--tps``: ``50`` (every VASID) or ``SVC=50,OTHER=10`` (per VASID)."""
    contracts: dict[str, float] = {}
    for item in text.split(","):
        vas_id, per_vas, number = item.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            value = 0.0
        if not value > 0 or (per_vas and not vas_id.strip()):
            raise argparse.ArgumentTypeError(f"{item!r}: expected TPS or VASID=TPS, TPS above 0")
        if not per_vas:
            if "," in text:
                raise argparse.ArgumentTypeError(f"{text!r}: one TPS, or VASID=TPS pairs")
            return value
        contracts[vas_id.strip()] = value
    return contracts


def fraction_value(text: str) -> float:
    """``--redis-fallback``: a fraction in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction above 0, at most 1")
    return value


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The MM7Client keyword arguments the command line gives (shared with bulk sending).

    With ``--redis`` the throttle is a :class:`~mm7client.throttle.redis.RedisThrottle`
    holding the ``--tps`` contracts (the ``[redis]`` extra); without it, the in-process one.
    """
    from mm7client.throttle import RetryPolicy

    throttle = None
    tps = args.tps
    if getattr(args, "redis", None):
        try:
            from mm7client.throttle.redis import RedisThrottle
        except ImportError:
            raise SystemExit(
                "mm7 send --redis needs the redis package: pip install 'mm7toolkit[redis]'"
            ) from None
        throttle = RedisThrottle(
            args.redis,
            tps=tps,
            prefix=args.redis_prefix,
            fallback_fraction=args.redis_fallback,
        )
        tps = None
    return {
        "profile": args.profile,
        "vasp_id": args.vasp_id,
        "vas_id": args.vas_id,
        "kisa_orig_code": args.kisa_code,
        "callback": args.callback,
        "username": args.user,
        "password": args.password if args.user else None,
        "verify_tls": not args.insecure,
        "ca_file": args.ca_file,
        "total_timeout": args.timeout,
        "transport": args.transport,
        "tps": tps,
        "throttle": throttle,
        "retry": RetryPolicy(pause_seconds=args.pause) if args.pause is not None else None,
    }
