"""End to end: the client submits to the mock MMSC, which reports every seed status back."""

from __future__ import annotations

from typing import Any

import pytest

from mm7client import MM7Client
from mm7client.codes import Category
from mm7client.model import Part, SubmitRequest
from mm7client.receiver import ReceiverServer, SqliteStore
from mockmmsc import MockMMSC

# magic recipient -> (MMStatus, StatusText, convertResult, category, spam_blocked), from the
# LGT seed table (plain data copy: Expired -> 3020)
SEED_REPORTS = {
    "01088880001": ("Retrieved", "OK", -100, Category.SUCCESS, False),
    "01088880002": ("Retrieved", "NOK", -100, Category.FAILED, True),
    "01088880003": ("PPSRejected", "NOK", 3020, Category.FAILED, False),
    "01088880004": ("Rejected", "NOK", 3100, Category.FAILED, False),
    "01088880005": ("Stalking", "NOK", 3020, Category.FAILED, False),
    "01088880006": ("Expired", "NOK", 3020, Category.FAILED, False),
    "01088880007": ("Fail", "NOK", 3020, Category.FAILED, False),
    "01088880008": ("NoRecipient", "NOK", 3050, Category.FAILED, False),
}


def submit_request(recipient: str) -> SubmitRequest:
    return SubmitRequest(
        to=[recipient],
        subject="report test",
        content=[Part.from_text("hello")],
        delivery_report=True,
    )


def lgt_client(url: str, **options: Any) -> MM7Client:
    return MM7Client(
        url,
        profile="lgt",
        vasp_id="VASP",
        vas_id="VAS",
        kisa_orig_code="123456789",
        callback="15881234",
        sender_address="15881234",
        **options,
    )


@pytest.mark.asyncio
async def test_every_seed_report_status_is_stored_normalized_and_correlated(
    mmsc: MockMMSC,
) -> None:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store) as rx,
        lgt_client(mmsc.url, on_result=store.record_submit) as client,
    ):
        mmsc.set_report_url("VAS", rx.url)
        message_ids: dict[str, str] = {}
        for recipient in SEED_REPORTS:
            result = await client.submit(submit_request(recipient))
            assert result.ok and result.message_id is not None, result
            message_ids[recipient] = result.message_id
        reports = await mmsc.wait_for_reports(len(SEED_REPORTS), timeout=10.0)
        assert all(report.acknowledged for report in reports)
        items = await store.pending(kind="delivery_report")

    assert len(items) == len(SEED_REPORTS)
    by_recipient = {item.recipient: item for item in items}
    for recipient, (mm_status, text, convert, category, spam) in SEED_REPORTS.items():
        item = by_recipient[recipient]
        assert item.message_id == message_ids[recipient]
        assert (item.mm_status, item.status_text) == (mm_status, text)
        assert item.normalized is not None
        assert item.normalized.convert_result == convert, recipient
        assert item.normalized.result_message == text
        assert item.normalized.category is category
        assert item.normalized.spam_blocked is spam
        assert item.normalized.known
        # correlated with the submit the client recorded through its on_result hook
        assert item.submit is not None and item.submit.recipients == (recipient,)
        assert item.submit.vas_id == "VAS"
        assert item.submit.normalized is not None
        assert item.submit.normalized.origin_result == "1000"
        assert item.submit.normalized.category is Category.SUCCESS


@pytest.mark.asyncio
async def test_failed_submits_and_cancels_are_not_recorded(mmsc: MockMMSC) -> None:
    async with (
        SqliteStore(":memory:") as store,
        lgt_client(mmsc.url, on_result=store.record_submit) as client,
    ):
        refused = await client.submit(submit_request("01099993001"))  # magic: SubmitRsp 3001
        assert not refused.ok and refused.message_id is None
        accepted = await client.submit(submit_request("01012345678"))
        assert accepted.message_id is not None
        await client.cancel(accepted.message_id)
        recorded = await store.find_submit(accepted.message_id)
        assert recorded is not None and recorded.recipients == ("01012345678",)
        assert recorded.transaction_id == accepted.transaction_id
