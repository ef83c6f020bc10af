"""The receiver's stores, picked by URL: sqlite (the embedded default) and PostgreSQL.

* a plain path (``reports.sqlite``) or ``sqlite:///path`` -> :class:`SqliteStore`
  (nothing to install; one machine);
* ``postgresql://user@host/db`` (or ``postgres://``) -> :class:`PostgresStore
  <mm7client.receiver.stores.postgresql.PostgresStore>` (``pip install 'mm7toolkit[postgresql]'``;
  several receivers and consumers on one database).

:func:`open_store` opens one; :func:`upgrade_store` creates or migrates its schema (what
``mm7 db upgrade --store URL`` runs). PostgreSQL is imported only when a URL asks for it.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from mm7client.receiver.stores.sqlite import SqliteStore, upgrade_sqlite

if TYPE_CHECKING:
    from mm7client.receiver.stores.postgresql import PostgresStore

__all__ = ["SqliteStore", "is_postgres_url", "open_store", "sqlite_path", "upgrade_store"]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite://"


def is_postgres_url(store: str) -> bool:
    """True when ``store`` names a PostgreSQL database."""
    return store.lower().startswith(_POSTGRES_SCHEMES)


def sqlite_path(store: str | os.PathLike[str]) -> str:
    """The file of a sqlite store given as a path or a ``sqlite:///path`` URL."""
    text = os.fspath(store)
    if text.lower().startswith(_SQLITE_SCHEME):
        return text[len(_SQLITE_SCHEME) :] or ":memory:"
    return text


def _postgres() -> Any:
    try:
        from mm7client.receiver.stores import postgresql
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"a postgresql:// store needs psycopg ({exc.name} is missing): "
            "pip install 'mm7toolkit[postgresql]'"
        ) from exc
    return postgresql


def open_store(store: str | os.PathLike[str], **options: Any) -> SqliteStore | PostgresStore:
    """The store ``store`` names (not yet opened: use ``async with``).

    ``options`` go to the store's constructor (e.g. ``synchronous="NORMAL"`` for sqlite,
    ``pool_size=16`` for PostgreSQL).
    """
    text = os.fspath(store)
    if is_postgres_url(text):
        postgres: PostgresStore = _postgres().PostgresStore(text, **options)
        return postgres
    return SqliteStore(sqlite_path(text), **options)


async def upgrade_store(store: str | os.PathLike[str]) -> tuple[int, int]:
    """Create or migrate the schema of ``store``; returns (version before, version after)."""
    text = os.fspath(store)
    if is_postgres_url(text):
        result: tuple[int, int] = await _postgres().upgrade_postgres(text)
        return result
    return await asyncio.to_thread(upgrade_sqlite, sqlite_path(text))
