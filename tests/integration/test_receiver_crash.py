"""Crash test: the receiver process is SIGKILLed while reports arrive; nothing is lost or doubled.

The receiver runs as ``python -m mm7client.cli.receive`` (a separate process) on a fixed free
port with a sqlite file; the mock MMSC runs in-process and keeps retrying every report until it
is acknowledged. Bounded: 200 reports, at most 20 s of waiting for the re-deliveries.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from receiver_process import ReceiverProcess
from test_receiver_reports import lgt_client, submit_request

from mm7client.receiver import SqliteStore
from mockmmsc import MockMMSC, MockSettings

REPORTS = 200
KILL_AFTER_ACKNOWLEDGED = 50
REDELIVERY_TIMEOUT = 20.0


@pytest.fixture
def mmsc_settings() -> MockSettings:
    # retries back off from 20 ms up to 0.5 s (time_scale 0.01): quick re-delivery after restart
    return MockSettings(host="127.0.0.1", port=0, time_scale=0.01, report_retry_max=50.0)


async def stored_keys(path: Path) -> list[tuple[str | None, str | None, str | None]]:
    async with SqliteStore(path) as store:
        return [(i.message_id, i.recipient, i.mm_status) for i in await store.items()]


@pytest.mark.asyncio
async def test_sigkill_while_reports_arrive_loses_nothing_and_stores_no_duplicates(
    mmsc: MockMMSC, tmp_path: Path
) -> None:
    db = tmp_path / "receiver.sqlite"
    receiver = ReceiverProcess(db, tmp_path / "receiver.log")
    url = await receiver.start()
    mmsc.set_report_url("VAS", url)

    async def submit_all() -> None:
        async with lgt_client(mmsc.url) as client:
            for n in range(REPORTS):
                recipient = f"0108888000{n % 8 + 1}"  # every seed report status, in turn
                result = await client.submit(submit_request(recipient))
                assert result.ok, result
                await asyncio.sleep(0.005)  # a stream, not a burst

    def reports() -> list[tuple[str, str, str, bool]]:
        return [
            (r.message_id, r.recipient, r.mm_status, r.acknowledged)
            for m in mmsc.messages
            for r in m.reports
        ]

    submitter = asyncio.create_task(submit_all())
    try:
        await mmsc.wait_for_reports(KILL_AFTER_ACKNOWLEDGED, timeout=REDELIVERY_TIMEOUT)
        await receiver.kill()
        snapshot = reports()
        acknowledged_at_kill = {r[:3] for r in snapshot if r[3]}
        assert KILL_AFTER_ACKNOWLEDGED <= len(acknowledged_at_kill) < REPORTS  # mid-stream

        # every report the mock saw acknowledged is already on disk, before any restart
        on_disk = await stored_keys(db)
        assert acknowledged_at_kill <= set(on_disk)

        await receiver.start()  # same port, same file
        await asyncio.wait_for(submitter, REDELIVERY_TIMEOUT)
        await mmsc.wait_for_reports(REPORTS, timeout=REDELIVERY_TIMEOUT)
    finally:
        submitter.cancel()
        exit_code = await receiver.stop()
    assert exit_code == 0  # SIGTERM stops `mm7 receive` cleanly

    final = reports()
    assert len(final) == REPORTS and all(r[3] for r in final)
    stored = await stored_keys(db)
    duplicates = [key for key, count in Counter(stored).items() if count > 1]
    assert duplicates == []
    assert set(stored) == {r[:3] for r in final}
    assert len(stored) == REPORTS
    assert "Traceback" not in (tmp_path / "receiver.log").read_text()
