"""A consumer process: drain a PostgreSQL store with claims, print each handled item's id.

``python consumer_process.py URL NAME [LEASE] [WORK]`` - exits when nothing is left to claim;
each item is claimed for LEASE seconds (default 30) and takes WORK seconds (default 0.002).
"""

from __future__ import annotations

import asyncio
import sys

from mm7client.receiver.stores.postgresql import PostgresStore


async def drain(url: str, name: str, lease: float, work: float) -> None:
    async with PostgresStore(url) as store:
        async for item in store.iter_pending(
            claim=True, consumer=name, lease=lease, stop_when_empty=True
        ):
            await asyncio.sleep(work)
            if not await store.mark_handled(item):
                raise SystemExit(f"item {item.id} was already handled")
            print(item.id, flush=True)


if __name__ == "__main__":
    lease, work = (float(a) for a in [*sys.argv[3:5], 30.0, 0.002][:2])
    asyncio.run(drain(sys.argv[1], sys.argv[2], lease, work))
