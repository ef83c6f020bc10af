"""The receiving side: delivery reports, MO messages and read replies that are never lost.

An aiohttp application accepts the MMSC's DeliveryReportReq, DeliverReq and ReadReplyReq (any
MM7 namespace, LGT's form too), stores each durably, and only then answers the matching Rsp
with status 1000. Consumers read the store::

    from mm7client.receiver import ReceiverServer, SqliteStore

    async with SqliteStore("reports.sqlite") as store, ReceiverServer(store, port=8080) as rx:
        async for item in store.iter_pending():
            print(item.kind, item.message_id, item.normalized)
            await store.mark_handled(item.id)

The store is the source of truth: an ``on_item`` callback is a notification run after the item
is stored (a crash before it runs loses nothing: the item stays pending for ``iter_pending``).

* :func:`create_receiver_app` - the application, to run or mount in your own aiohttp app.
* :class:`ReceiverServer` - the application on its own server.
* :class:`ReceiverStore` - the small store interface; :class:`SqliteStore` the embedded one,
  ``PostgresStore`` (in :mod:`mm7client.receiver.stores.postgresql`, needs the ``postgresql``
  extra) the one several receivers share; :func:`open_store` picks one from a path or URL.
"""

from __future__ import annotations

from mm7client.receiver.app import ItemCallback, create_receiver_app
from mm7client.receiver.server import ReceiverServer
from mm7client.receiver.store import (
    SCHEMA_VERSION,
    AddResult,
    IncomingMessage,
    ItemKind,
    ReceiverStore,
    StoredItem,
    StoreVersionError,
    SubmitOutcome,
    SubmitRecord,
    dedup_key,
    normalize_item,
)
from mm7client.receiver.stores import SqliteStore, open_store, upgrade_store

__all__ = [
    "SCHEMA_VERSION",
    "AddResult",
    "IncomingMessage",
    "ItemCallback",
    "ItemKind",
    "ReceiverServer",
    "ReceiverStore",
    "SqliteStore",
    "StoreVersionError",
    "StoredItem",
    "SubmitOutcome",
    "SubmitRecord",
    "create_receiver_app",
    "dedup_key",
    "normalize_item",
    "open_store",
    "upgrade_store",
]
