"""End to end: submit to the mock MMSC, which reports every seed status to the receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import decode, encode
from mm7client.codes import Category
from mm7client.model import Part, SubmitRequest, SubmitResponse
from mm7client.profiles import LGT
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
        vasp_id="VASP",
        vas_id="VAS",
        sender_address="15881234",
        callback="15881234",
        kisa_orig_code="123456789",
        subject="report test",
        content=[Part.from_text("hello")],
        delivery_report=True,
    )


async def submit(http: aiohttp.ClientSession, url: str, request: SubmitRequest) -> SubmitResponse:
    """Post one SubmitReq built by the codec (LGT form) and return the decoded SubmitRsp."""
    encoded = encode(request, LGT)
    async with http.post(url, data=encoded.body, headers=encoded.headers) as rsp:
        answer = decode(await rsp.read(), rsp.headers.get("Content-Type"))
    assert isinstance(answer, SubmitResponse), answer
    assert answer.status.code == "1000" and answer.message_id, answer
    return answer


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.mark.asyncio
async def test_every_seed_report_status_is_stored_normalized_and_correlated(
    mmsc: MockMMSC, http: aiohttp.ClientSession
) -> None:
    async with SqliteStore(":memory:") as store, ReceiverServer(store) as rx:
        mmsc.set_report_url("VAS", rx.url)
        message_ids: dict[str, str] = {}
        for recipient in SEED_REPORTS:
            request = submit_request(recipient)
            answer = await submit(http, mmsc.url, request)
            assert answer.message_id is not None
            message_ids[recipient] = answer.message_id
            await store.record_submit(request, answer)  # duck-typed like the client's result
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
        assert item.submit is not None and item.submit.recipients == (recipient,)
        assert item.submit.vas_id == "VAS"
