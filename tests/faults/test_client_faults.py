"""The client under every mock fault: one final normalized result per message, no hang, no raise.

Every call is wrapped in ``asyncio.wait_for`` so that a hang fails the test instead of blocking
CI; the client's own timeouts are small (0.5 s) and its backoff short and without jitter.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from mm7client import MM7Client, SubmitResult
from mm7client.codes import Category
from mm7client.model import Part, SubmitRequest
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, MockSettings
from mockmmsc.testing import ReportSink

GUARD = 15.0
TIMEOUT = 0.5
MAX_ATTEMPTS = 3


class Results:
    """The ``on_result`` hook: every final result, to prove there is exactly one per message."""

    def __init__(self) -> None:
        self.calls: list[tuple[SubmitRequest, SubmitResult]] = []

    async def __call__(self, request: Any, result: SubmitResult) -> None:
        self.calls.append((request, result))


def message(subject: str = "faults") -> SubmitRequest:
    return SubmitRequest(to=["01012345678"], subject=subject, content=[Part.from_text("본문")])


@pytest_asyncio.fixture
async def mmsc() -> AsyncIterator[MockMMSC]:
    # real seconds for delays and holds, so they can outlast the client's 0.5 s timeout
    settings = MockSettings(time_scale=1.0, report_delay=0.0, fault_max_hold=5.0)
    async with MockMMSC(settings) as mock:
        yield mock


@pytest_asyncio.fixture
async def hook() -> Results:
    return Results()


@pytest_asyncio.fixture(params=["aiohttp", "http11"])
async def client(
    request: pytest.FixtureRequest, mmsc: MockMMSC, hook: Results
) -> AsyncIterator[MM7Client]:
    # every fault against both HTTP transports: the lean http11 (the default) and aiohttp
    async with MM7Client(
        mmsc.url,
        transport=request.param,
        vasp_id="VASP01",
        vas_id="VAS001",
        kisa_orig_code="123456789",
        callback="15881234",
        on_result=hook,
        retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay=0.01, jitter=0),
        connect_timeout=TIMEOUT,
        total_timeout=TIMEOUT,
    ) as mm7:
        yield mm7


async def send(
    client: MM7Client, hook: Results, request: SubmitRequest | None = None
) -> SubmitResult:
    """One submit under the guard; checks the hook saw exactly this one result."""
    before = len(hook.calls)
    result = await asyncio.wait_for(client.submit(request or message()), GUARD)
    assert len(hook.calls) == before + 1 and hook.calls[-1][1] is result
    assert result.elapsed < MAX_ATTEMPTS * (TIMEOUT + 0.5) + 1  # bounded by its timeouts
    return result


def submits(mmsc: MockMMSC) -> list[Any]:
    return [m for m in mmsc.messages if m.operation == "SubmitReq"]


@pytest.mark.asyncio
async def test_short_delay_is_just_slow(mmsc: MockMMSC, client: MM7Client, hook: Results) -> None:
    mmsc.add_rule(fault={"kind": "delay", "delay": 0.05, "delay_max": 0.1})
    result = await send(client, hook)
    assert result.ok and result.attempts == 1 and result.message_id


@pytest.mark.asyncio
async def test_delay_past_the_timeout_is_retried(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault={"kind": "delay", "delay": 0.8}, times=1)
    result = await send(client, hook)
    assert result.ok and result.attempts == 2 and not result.ambiguous
    # at-least-once: the timed-out attempt is accepted too once its delay is over (two
    # MessageIDs at the MMSC; the caller reconciles through delivery reports)
    await mmsc.wait_for_messages(2, timeout=GUARD)
    assert [m.status_code for m in submits(mmsc)] == [1000, 1000]


@pytest.mark.asyncio
async def test_no_answer_once_then_success(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault="no_answer", times=1)
    result = await send(client, hook)
    assert result.ok and result.attempts == 2 and not result.ambiguous


@pytest.mark.asyncio
async def test_no_answer_ever_ends_in_a_final_timeout(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault="no_answer")
    result = await send(client, hook)
    assert not result.ok and result.attempts == MAX_ATTEMPTS
    assert result.normalized.origin_result == "timeout"
    assert result.normalized.provider == "TRANSPORT" and result.http_status is None


@pytest.mark.asyncio
async def test_reset_before_body_is_retried_or_flagged(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.endpoint.faults.add({"kind": "reset_before_body", "times": 1})
    result = await send(client, hook)
    # the whole small request was handed to the network before the drop: the client cannot
    # know the MMSC read nothing, so it is ambiguous (not resent) - or, if the drop came
    # while writing, a connection error that is resent
    if result.ambiguous:
        assert result.attempts == 1 and result.category is Category.UNKNOWN
        assert submits(mmsc) == []
    else:
        assert result.ok and result.attempts == 2


@pytest.mark.asyncio
async def test_reset_after_body_is_ambiguous_and_reconciled_by_the_report() -> None:
    async with (
        ReportSink() as sink,
        MockMMSC(MockSettings(time_scale=0.01, report_url=sink.url)) as mmsc,
    ):
        hook = Results()
        mmsc.add_rule(fault="reset_after_body", times=1)
        async with MM7Client(
            mmsc.url,
            vasp_id="VASP01",
            vas_id="VAS001",
            kisa_orig_code="123456789",
            callback="15881234",
            on_result=hook,
            total_timeout=TIMEOUT,
            retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay=0.01, jitter=0),
        ) as client:
            request = SubmitRequest(
                to=["01012345678"], subject="x", content=[Part.from_text("x")], delivery_report=True
            )
            result = await send(client, hook, request)
        assert result.ambiguous and result.attempts == 1  # not resent: no duplicate
        assert result.category is Category.UNKNOWN and result.message_id is None
        (accepted,) = submits(mmsc)
        # the caller reconciles: a delivery report comes for the MessageID it never saw
        (report,) = await mmsc.wait_for_reports(1, timeout=GUARD)
        assert report.message_id == accepted.message_id
        assert accepted.transaction_id == result.transaction_id


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_error_pages_are_retried(
    mmsc: MockMMSC, client: MM7Client, hook: Results, status: int
) -> None:
    mmsc.add_rule(fault={"kind": "http_error", "http_status": status}, times=2)
    result = await send(client, hook)
    assert result.ok and result.attempts == 3


@pytest.mark.asyncio
async def test_http_error_forever_ends_retry_exhausted(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault={"kind": "http_error", "http_status": 502})
    result = await send(client, hook)
    assert not result.ok and result.attempts == MAX_ATTEMPTS and result.http_status == 502
    assert result.normalized.origin_result == "http_error"


@pytest.mark.asyncio
async def test_soap_fault_is_normalized_by_its_status(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault={"kind": "soap_fault", "status": 3000}, times=1)
    result = await send(client, hook)
    assert result.ok and result.attempts == 2  # 3000 Server Error is a retry code
    mmsc.reset_rules()
    mmsc.add_rule(fault={"kind": "soap_fault", "status": 4004})
    result = await send(client, hook)
    assert not result.ok and result.attempts == 1 and result.fault is not None
    assert result.normalized.origin_result == "4004" and result.http_status == 500


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["truncated", "malformed"])
async def test_damaged_answer_is_a_final_unparseable_result(
    mmsc: MockMMSC, client: MM7Client, hook: Results, kind: str
) -> None:
    mmsc.add_rule(fault=kind)
    result = await send(client, hook)
    assert not result.ok and result.attempts == 1  # not resent: the MMSC did answer 200
    assert result.normalized.origin_result == "unparseable" and result.http_status == 200
    assert len(submits(mmsc)) == 1


@pytest.mark.asyncio
async def test_wrong_transaction_id_is_detected_as_ambiguous(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault="wrong_transaction_id")
    result = await send(client, hook)
    # the answer belongs to another request: neither its status nor its MessageID can be
    # trusted, and the message may have been accepted - so: ambiguous, not resent
    assert result.ambiguous and not result.ok and result.attempts == 1
    assert result.message_id is None
    assert "TransactionID" in (result.normalized.status_text or "")
    assert len(submits(mmsc)) == 1


@pytest.mark.asyncio
async def test_slow_body_within_the_timeout_succeeds(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault={"kind": "slow_body", "chunk_size": 64, "chunk_interval": 0.01})
    result = await send(client, hook)
    assert result.ok and result.attempts == 1 and result.message_id


@pytest.mark.asyncio
async def test_slow_body_past_the_timeout_is_retried(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    mmsc.add_rule(fault={"kind": "slow_body", "chunk_size": 4, "chunk_interval": 0.05}, times=1)
    result = await send(client, hook)
    assert result.ok and result.attempts == 2


@pytest.mark.asyncio
async def test_many_messages_under_random_faults_get_one_result_each(
    mmsc: MockMMSC, client: MM7Client, hook: Results
) -> None:
    for kind in ("http_error", "soap_fault", "truncated", "reset_after_body", "delay"):
        fault = {"kind": kind, "probability": 0.1}
        if kind == "delay":
            fault.update(delay=0.0, delay_max=0.05)
        mmsc.endpoint.faults.add(fault)
    requests = [message(f"m{i}") for i in range(40)]

    async def run() -> list[Any]:
        return [item async for item in client.submit_many(requests, concurrency=8)]

    items = await asyncio.wait_for(run(), GUARD * 2)
    assert sorted(item.index for item in items) == list(range(40))
    assert all(item.result is not None and item.error is None for item in items)
    assert len(hook.calls) == 40
    subjects = Counter(request.subject for request, _ in hook.calls)
    assert set(subjects.values()) == {1}  # never a duplicate result
    categories = Counter(item.result.category for item in items if item.result)
    assert categories[Category.SUCCESS] >= 20
