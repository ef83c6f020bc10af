"""A consumer process: drain a PostgreSQL store with claims, print each handled item's id.

``python consumer_process.py URL NAME`` - exits when nothing is left to claim.
"""

from __future__ import annotations

import asyncio
import sys

from mm7client.receiver.stores.postgresql import PostgresStore


async def drain(url: str, name: str) -> None:
    async with PostgresStore(url) as store:
        async for item in store.iter_pending(
            claim=True, consumer=name, lease=30.0, stop_when_empty=True
        ):
            await asyncio.sleep(0.002)  # the work
            if not await store.mark_handled(item):
                raise SystemExit(f"item {item.id} was already handled")
            print(item.id, flush=True)


if __name__ == "__main__":
    asyncio.run(drain(sys.argv[1], sys.argv[2]))
