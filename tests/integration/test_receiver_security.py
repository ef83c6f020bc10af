"""The receiver's IP allow-list over loopback: a peer outside it gets 403 / 4007, is logged, and
nothing is stored; a peer inside it is served."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from mm7client.codec import decode, encode
from mm7client.model import Address, DeliveryReportRequest, DeliveryReportResponse, SoapFault
from mm7client.profiles import LGT
from mm7client.receiver import ReceiverServer, SqliteStore

pytestmark = pytest.mark.asyncio


async def post_report(url: str) -> tuple[int, bytes]:
    encoded = encode(
        DeliveryReportRequest(
            message_id="m-1", recipient=Address("01012345678"), mm_status="Retrieved"
        ),
        LGT,
    )
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.post(
            url, data=encoded.body, headers={"Content-Type": encoded.content_type}
        ) as response,
    ):
        return response.status, await response.read()


async def test_a_peer_outside_the_allow_list_gets_403_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mm7client.receiver")
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, allow_ips=["10.0.0.0/8", "192.0.2.0/24"]) as rx,
    ):
        status, body = await post_report(rx.url)
        assert await store.pending() == []
    assert status == 403
    fault = decode(body)
    assert isinstance(fault, SoapFault) and fault.status is not None
    assert str(fault.status.code) == "4007"
    assert any("peer address 127.0.0.1 is not allowed" in r.getMessage() for r in caplog.records)


async def test_a_peer_inside_the_allow_list_is_served() -> None:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, allow_ips=["127.0.0.0/8"]) as rx,
    ):
        status, body = await post_report(rx.url)
        assert len(await store.pending()) == 1
    assert status == 200
    assert isinstance(decode(body), DeliveryReportResponse)
