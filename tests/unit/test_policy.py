"""The send policy without an event loop: every outcome -> the next step, and the final result."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest

from mm7client.codec import encode
from mm7client.codes import Category, TransportFailure
from mm7client.model import (
    CancelResponse,
    DeliveryReportRequest,
    SoapFault,
    Status,
    SubmitResponse,
)
from mm7client.policy import (
    Answered,
    AttemptState,
    Final,
    NotMM7,
    Pause,
    Resend,
    SendPolicy,
    SlowDown,
    TransportFailed,
    read_reply,
)
from mm7client.profiles import LGT
from mm7client.throttle import RetryPolicy

TID = "tid-1"


def rsp(code: int, tid: str = TID, message_id: str | None = "MID-1") -> Answered:
    return Answered(
        200, SubmitResponse(transaction_id=tid, status=Status.of(code), message_id=message_id)
    )


def state(**changes: Any) -> AttemptState:
    return replace(AttemptState("VAS1", "SubmitReq", TID), **changes)


@pytest.fixture(autouse=True)
def no_event_loop() -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_success_is_final_with_the_message_id_and_the_attempt_state() -> None:
    step = SendPolicy().next_step(state(attempts=2, retries=1, elapsed=1.5), rsp(1000))
    assert isinstance(step, Final)
    result = step.result
    assert result.ok and result.message_id == "MID-1" and result.http_status == 200
    assert (result.attempts, result.elapsed, result.vas_id, result.transaction_id) == (
        2,
        1.5,
        "VAS1",
        TID,
    )
    assert result.normalized.origin_result == "1000"


def test_4030_pauses_the_vasid_for_the_tables_60_seconds_then_resends() -> None:
    step = SendPolicy().next_step(state(), rsp(4030))
    assert isinstance(step, Pause)
    assert (step.vas_id, step.seconds, step.final) == ("VAS1", 60.0, None)
    after = state().after(step, "tid-2")
    assert (after.attempts, after.throttled, after.retries, after.transaction_id) == (
        2,
        1,
        0,
        "tid-2",
    )


def test_the_configured_pause_replaces_the_tables() -> None:
    step = SendPolicy(RetryPolicy(pause_seconds=0.7)).next_step(state(), rsp(4030))
    assert isinstance(step, Pause) and step.seconds == 0.7


def test_7103_slows_the_vasid_down_then_resends_after_the_configured_delay() -> None:
    step = SendPolicy(RetryPolicy(throttle_retry_delay=0.2)).next_step(state(), rsp(7103))
    assert isinstance(step, SlowDown)
    assert (step.vas_id, step.delay, step.final) == ("VAS1", 0.2, None)


def test_throttled_budget_spent_still_throttles_but_returns_the_result() -> None:
    policy = SendPolicy(RetryPolicy(max_throttled_resends=2))
    step = policy.next_step(state(throttled=2, attempts=3), rsp(4030))
    assert isinstance(step, Pause) and step.final is not None
    assert step.final.category is Category.THROTTLED and step.final.attempts == 3
    step = policy.next_step(state(throttled=2), rsp(7103))
    assert isinstance(step, SlowDown) and step.final is not None


def test_retry_results_back_off_until_the_budget_is_spent() -> None:
    policy = SendPolicy(RetryPolicy(max_attempts=3, base_delay=1, jitter=0))
    first = policy.next_step(state(), rsp(4006))
    assert isinstance(first, Resend) and first.delay == 1.0
    second = policy.next_step(state().after(first, "t2"), rsp(4006, tid="t2"))
    assert isinstance(second, Resend) and second.delay == 2.0
    last = policy.next_step(state().after(first, "t2").after(second, "t3"), rsp(4006, tid="t3"))
    assert isinstance(last, Final)
    assert last.result.category is Category.RETRY and last.result.attempts == 3


def test_backoff_jitter_stays_within_its_bounds_and_is_reproducible() -> None:
    retry = RetryPolicy(base_delay=2, jitter=0.5, max_attempts=10)
    delays = []
    for n in range(200):
        step = SendPolicy(retry, rng=random.Random(n)).next_step(state(retries=1), rsp(3000))
        assert isinstance(step, Resend)
        delays.append(step.delay)
    assert all(2.0 <= d <= 4.0 for d in delays)  # second retry: 4 s, half of it jitter
    assert len(set(delays)) > 100
    again = SendPolicy(retry, rng=random.Random(3)).next_step(state(retries=1), rsp(3000))
    assert isinstance(again, Resend) and again.delay == delays[3]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_an_http_4xx_without_mm7_is_final_failed(status: int) -> None:
    step = SendPolicy().next_step(state(), NotMM7(status, "<html>no</html>"))
    assert isinstance(step, Final)
    result = step.result
    assert result.category is Category.FAILED and result.http_status == status
    assert result.normalized.origin_result == "http_error"
    assert result.normalized.status_text == f"HTTP {status}: <html>no</html>"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_an_http_5xx_or_transient_4xx_without_mm7_is_retried(status: int) -> None:
    step = SendPolicy().next_step(state(), NotMM7(status, "busy"))
    assert isinstance(step, Resend)
    assert step.verdict.normalized.category is Category.RETRY


def test_a_200_without_mm7_is_unparseable_and_final() -> None:
    step = SendPolicy().next_step(state(), NotMM7(200, "not XML"))
    assert isinstance(step, Final)
    assert step.result.normalized.origin_result == "unparseable"
    assert step.result.category is Category.FAILED


@pytest.mark.parametrize(
    "kind", [TransportFailure.TIMEOUT, TransportFailure.CONNECTION_REFUSED, "connection_error"]
)
def test_failures_before_an_answer_are_retried(kind: TransportFailure) -> None:
    step = SendPolicy().next_step(state(), TransportFailed(TransportFailure(kind), "x"))
    assert isinstance(step, Resend) and not step.verdict.ambiguous


def test_a_drop_after_sending_is_ambiguous_and_not_resent_unless_asked() -> None:
    dropped = TransportFailed(TransportFailure.AMBIGUOUS, "ServerDisconnectedError")
    step = SendPolicy().next_step(state(), dropped)
    assert isinstance(step, Final)
    assert step.result.ambiguous and step.result.category is Category.UNKNOWN
    step = SendPolicy(RetryPolicy(retry_ambiguous=True)).next_step(state(), dropped)
    assert isinstance(step, Resend) and step.verdict.ambiguous


def test_an_answer_to_another_transaction_is_ambiguous_and_trusted_for_nothing() -> None:
    step = SendPolicy().next_step(state(), rsp(1000, tid="someone-else"))
    assert isinstance(step, Final)
    result = step.result
    assert result.ambiguous and result.message_id is None and result.status is None
    assert result.category is Category.UNKNOWN
    assert "someone-else" in (result.normalized.status_text or "")


def test_a_fault_with_a_status_is_read_with_the_table_and_kept() -> None:
    fault = SoapFault(
        fault_code="Server", fault_string="boom", status=Status.of(4030, "System error")
    )
    step = SendPolicy().next_step(state(), Answered(500, fault))
    assert isinstance(step, Pause) and step.verdict.fault is fault
    bare = SoapFault(fault_code="Client", fault_string="bad")  # no status: nothing MM7 to read
    step = SendPolicy().next_step(state(), Answered(500, bare))
    assert isinstance(step, Resend)
    assert step.verdict.normalized.status_text == "HTTP 500: SOAP fault Client: bad"


def test_a_cancel_answer_has_no_message_id() -> None:
    step = SendPolicy().next_step(
        state(operation="CancelReq"),
        Answered(200, CancelResponse(transaction_id=TID, status=Status.of(1000))),
    )
    assert isinstance(step, Final)
    assert step.result.message_id is None and step.result.operation == "CancelReq"


def test_read_reply_sorts_every_http_answer() -> None:
    ok = encode(SubmitResponse(transaction_id=TID, status=Status.of(1000), message_id="M"), LGT)
    assert isinstance(read_reply(200, ok.body, ok.content_type), Answered)
    garbage = read_reply(502, b"<html>Bad gateway</html>", "text/html")
    assert isinstance(garbage, NotMM7) and garbage.http_status == 502
    fault = encode(SoapFault(fault_code="Server", fault_string="boom"), LGT)
    assert isinstance(read_reply(500, fault.body, fault.content_type), NotMM7)
    request = encode(
        DeliveryReportRequest(
            transaction_id=TID, message_id="M", recipient="01012345678", mm_status="Retrieved"
        ),
        LGT,
    )
    odd = read_reply(200, request.body, request.content_type)
    assert isinstance(odd, NotMM7) and "DeliveryReportRequest" in odd.detail
