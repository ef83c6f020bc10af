"""/readyz of a receiver on PostgreSQL follows the database (a real server, stopped and
started again): ready, then 503 with the reason while the server is down, then ready again
without restarting the receiver; /healthz stays 200 throughout."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from services import PostgresServer, with_search_path

from mm7client.receiver import ReceiverServer, upgrade_store
from mm7client.receiver.stores.postgresql import PostgresStore


async def status_of(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, str]]:
    async with session.get(url) as response:
        return response.status, await response.json()


@pytest.mark.asyncio
async def test_readyz_follows_the_database(own_postgres: PostgresServer) -> None:
    url = with_search_path(own_postgres.url, "public")
    await upgrade_store(url)
    async with (
        PostgresStore(url, acquire_timeout=1.0, connect_timeout=1.0) as store,
        ReceiverServer(store) as rx,
        aiohttp.ClientSession() as session,
    ):
        assert (await status_of(session, rx.url + "readyz"))[0] == 200
        await asyncio.to_thread(own_postgres.stop, "immediate")
        status, answer = await status_of(session, rx.url + "readyz")
        assert status == 503 and answer["status"] == "not ready" and answer["reason"]
        assert (await status_of(session, rx.url + "healthz"))[0] == 200
        await asyncio.to_thread(own_postgres.start)
        for _ in range(100):  # the store reconnects by itself (bounded: <= 10 s)
            status, _ = await status_of(session, rx.url + "readyz")
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert status == 200
