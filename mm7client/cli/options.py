"""Options that fall back to environment variables, and say so in ``--help``.

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

__all__ = ["IDENTITY_OPTIONS", "add_env_option", "explain_missing", "with_default"]

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
