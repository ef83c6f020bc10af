"""Nothing a long run accumulates makes a request cost more: reports that cannot be delivered
are settled (undeliverable, expired), the stores are bounded, and the API says so."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from mockmmsc import MockMMSC
from mockmmsc.testing import lgt_submit, post_mm7


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.asyncio
async def test_a_report_without_a_report_url_is_undeliverable_not_pending(mmsc_settings):
    async with (
        MockMMSC(mmsc_settings, max_stored_reports=40) as mmsc,
        aiohttp.ClientSession() as session,
    ):
        for _ in range(60):
            answer = await post_mm7(session, mmsc.url, lgt_submit())
            assert answer.status_code == 1000
        store = mmsc.store
        assert store.pending_count == 0 and mmsc.reports.in_flight == 0
        assert store.report_count == 40  # bounded: the oldest settled ones were dropped
        assert {r.state for r in store.reports} == {"undeliverable"}
        async with session.get(mmsc.base_url + "/api/reports?limit=5") as response:
            listed = await response.json()
        assert listed["total"] == 40
        assert {r["state"] for r in listed["reports"]} == {"undeliverable"}
        assert "no report URL" in listed["reports"][0]["last_error"]
        async with session.get(mmsc.base_url + "/api/reports?pending=true") as response:
            assert (await response.json())["total"] == 0
        newest = mmsc.messages[-1]
        async with session.get(f"{mmsc.base_url}/api/messages/{newest.id}") as response:
            shown = await response.json()
        assert shown["report_state"]["state"] == "undeliverable"
        assert shown["report_state"]["undeliverable"] == 1


@pytest.mark.asyncio
async def test_a_report_nobody_acknowledges_expires(mmsc_settings):
    settings = mmsc_settings.replace(
        report_url=f"http://127.0.0.1:{closed_port()}/", report_delay=0.0, report_expiry=0.2
    )
    async with MockMMSC(settings) as mmsc, aiohttp.ClientSession() as session:
        await post_mm7(session, mmsc.url, lgt_submit())
        (report,) = mmsc.store.reports
        for _ in range(200):  # bounded: 10 s at most
            if not report.pending:
                break
            await asyncio.sleep(0.05)
        assert report.state == "expired" and report.attempts >= 1
        assert "expired" in (report.last_error or "")
        assert mmsc.store.pending_count == 0
        await asyncio.sleep(0.05)
        assert mmsc.reports.in_flight == 0  # nothing left retrying
