"""``mm7 db``: the receiver store's schema, created and migrated on purpose.

::

    $ mm7 db upgrade --store postgresql://mm7@db.example/mm7
    postgresql://mm7@db.example/mm7: schema version 0 -> 3
    $ mm7 db version --store reports.sqlite
    reports.sqlite: schema version 1 (this mm7 uses 3: run `mm7 db upgrade --store reports.sqlite`)

``--store`` falls back to ``MM7_RECEIVER_STORE``. ``upgrade`` runs in one transaction: a failure
leaves the store as it was; running it again on an up-to-date store changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from typing import Any

from mm7client.cli.options import add_env_option
from mm7client.receiver.store import SCHEMA_VERSION, StoreVersionError
from mm7client.receiver.stores import is_postgres_url, sqlite_path, upgrade_store

__all__ = ["add_parser", "run_upgrade", "run_version"]


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register the ``db`` sub-command on ``subparsers``."""
    parser = subparsers.add_parser(
        "db",
        help="create or migrate the receiver store's schema",
        description="Create or migrate the schema of a receiver store (sqlite file or "
        "postgresql:// URL), or print its version.",
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, func, text in (
        ("upgrade", run_upgrade, "create the schema, or migrate it to this version"),
        ("version", run_version, "print the store's schema version"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        add_env_option(
            action,
            "--store",
            env="MM7_RECEIVER_STORE",
            required=not os.environ.get("MM7_RECEIVER_STORE"),
            metavar="FILE|URL",
            help="sqlite file or postgresql:// URL",
        )
        action.set_defaults(func=func)


def _shown(store: str) -> str:
    if not is_postgres_url(store):
        return store
    from mm7client.receiver.stores.postgresql import redacted_url

    return redacted_url(store)


def run_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the store's schema; 1 when it cannot."""
    try:
        before, after = asyncio.run(upgrade_store(args.store))
    except (OSError, RuntimeError, sqlite3.Error, ValueError) as exc:
        sys.stderr.write(f"mm7 db upgrade: {exc}\n")
        return 1
    except Exception as exc:  # the database driver's errors (psycopg is optional)
        sys.stderr.write(f"mm7 db upgrade: {type(exc).__name__}: {exc}\n")
        return 1
    change = "already up to date" if before == after else f"{before} -> {after}"
    sys.stdout.write(f"{_shown(args.store)}: schema version {change}\n")
    return 0


async def _version(store: str) -> int:
    if is_postgres_url(store):
        import psycopg

        from mm7client.receiver.stores.postgresql import schema_version as postgres_version

        async with await psycopg.AsyncConnection.connect(store) as pg:
            return await postgres_version(pg)
    from mm7client.receiver.stores.sqlite import schema_version as sqlite_version

    path = sqlite_path(store)
    if not os.path.exists(path):
        return 0
    with sqlite3.connect(path) as conn:
        return sqlite_version(conn)


def run_version(args: argparse.Namespace) -> int:
    """Print the schema version; 0 when current, 3 when an upgrade is needed, 1 on errors."""
    try:
        found = asyncio.run(_version(args.store))
    except Exception as exc:
        sys.stderr.write(f"mm7 db version: {type(exc).__name__}: {exc}\n")
        return 1
    try:
        StoreVersionError.check(_shown(args.store), found)
    except StoreVersionError as exc:
        sys.stdout.write(f"{_shown(args.store)}: schema version {found} ({exc})\n")
        return 3
    sys.stdout.write(f"{_shown(args.store)}: schema version {found} (current: {SCHEMA_VERSION})\n")
    return 0
