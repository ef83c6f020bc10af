"""The mock's decisions, pure: a request summary, the state and the time in, an answer and its
effects out. A fake clock moves time; no sockets, no event loop, no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mm7client.codec import RequestSummary
from mm7client.server import status_text
from mm7client.throttle import FakeClock
from mockmmsc.decide import decide
from mockmmsc.effects import (
    CountRuleHit,
    NoteOverload,
    OpenOverload,
    Outcome,
    PlannedReport,
    RefuseTps,
    ScheduleReports,
    SpendToken,
)
from mockmmsc.scenarios import MAGIC_REPORTS, Rule
from mockmmsc.settings import MockSettings, VasAccount
from mockmmsc.state import MockState
from mockmmsc.store import ReceivedRequest
from mockmmsc.throttle import OverloadHit

NEW_YEAR = datetime(2027, 1, 1, tzinfo=UTC).timestamp()


def submit(*to: str, **fields: Any) -> RequestSummary:
    """A SubmitReq's summary with LGT's required fields."""
    values: dict[str, Any] = {
        "operation": "SubmitReq",
        "transaction_id": "t1",
        "vas_id": "VAS1",
        "vasp_id": "VASP1",
        "callback": "15881234",
        "recipients": to or ("01012345678",),
        "kisa_orig_code": "123456789",
        "delivery_report": False,
    }
    values.update(fields)
    return RequestSummary(**values)


def make_state(**settings: Any) -> MockState:
    return MockState(
        MockSettings(**settings), clock=FakeClock(1000.0), wall_clock=lambda: NEW_YEAR - 3600
    )


def answer(state: MockState, request: RequestSummary, **options: Any) -> Outcome:
    """Decide at the state's time, then apply the effects as the endpoint does."""
    now = state.clock.now()
    outcome = decide(request, options.pop("credentials", None), state, now, **options)
    state.apply(outcome.effects, now)
    return outcome


def codes(state: MockState, request: RequestSummary, n: int) -> list[int]:
    return [answer(state, request).answer.code for _ in range(n)]


# -- magic recipients -------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1100, 2005, 3001, 4006, 4030, 4032, 6014, 6072, 7103])
def test_magic_status_numbers_answer_their_code(code: int) -> None:
    state = make_state()
    outcome = answer(state, submit(f"0109999{code}"))
    assert outcome.answer.code == code
    assert outcome.answer.text == status_text(code)
    # a magic 4030 or 7103 is only an answer: no window opens, no contract is touched
    assert outcome.effects == ()
    assert answer(state, submit()).answer.code == 1000


def test_an_unknown_code_is_answered_as_is_and_the_first_magic_recipient_wins() -> None:
    state = make_state()
    assert answer(state, submit("01099995555")).answer.code == 5555
    assert answer(state, submit("01012345678", "01099994006", "01099993000")).answer.code == 4006
    assert answer(state, submit("01099990999")).answer.code == 1000  # below 1000: not magic


@pytest.mark.parametrize("n", range(1, 9))
def test_magic_report_numbers_schedule_their_report(n: int) -> None:
    state = make_state(report_delay=2.5)
    outcome = answer(state, submit(f"0108888000{n}", "01012345678", delivery_report=True))
    assert outcome.answer.code == 1000
    mm_status, text = MAGIC_REPORTS[n - 1]
    assert outcome.reports() == ScheduleReports(
        (
            PlannedReport(f"0108888000{n}", mm_status, text),
            PlannedReport("01012345678", "Retrieved", "OK"),
        ),
        2.5,
    )


def test_reports_only_when_asked_for_and_accepted() -> None:
    state = make_state()
    assert answer(state, submit("01088880003")).reports() is None  # DeliveryReport false
    refused = answer(state, submit("01099994006", delivery_report=True))
    assert refused.reports() is None


# -- rules --------------------------------------------------------------------------------------


def test_rule_times_then_sequence_counts_hits_and_ends() -> None:
    state = make_state()
    rule_id = state.add_rule(
        Rule(recipient="0101*", status=4006, times=2, then=[{"status": 3000, "times": 1}])
    )
    first = answer(state, submit())
    assert first.effects == (CountRuleHit(rule_id),)
    assert first.answer.rule_id == rule_id
    assert codes(state, submit(), 3) == [4006, 3000, 1000]  # used up: the rule stops matching
    assert state.rules.get(rule_id).hits == 3  # type: ignore[union-attr]


def test_deciding_changes_nothing() -> None:
    state = make_state()
    state.add_rule(Rule(status=4006, times=1))
    state.set_tps("VAS1", 1)
    now = state.clock.now()
    first = decide(submit(), None, state, now)
    again = decide(submit(), None, state, now)
    assert first == again and first.answer.code == 4006
    state.apply(first.effects, now)
    after = decide(submit(), None, state, now)
    assert after.answer.code == 7103  # the token was spent only when applied


def test_rule_probability_uses_the_draws_given() -> None:
    state = make_state()
    state.add_rule(Rule(status=4006, probability=0.25))
    assert answer(state, submit(), chance=lambda: 0.9).answer.code == 1000
    assert answer(state, submit(), chance=lambda: 0.1).answer.code == 4006
    draws = iter([0.5, 0.2, 0.24, 0.26])
    assert [answer(state, submit(), chance=lambda: next(draws)).answer.code for _ in range(4)] == [
        1000,
        4006,
        4006,
        1000,
    ]


def test_rule_matches_on_vasid_subject_and_content_type() -> None:
    state = make_state()
    state.add_rule(Rule(vas_id="OTHER", status=4001))
    state.add_rule(Rule(subject="re:광고.*", status=4002))
    state.add_rule(Rule(content_type="image/*", status=4003))
    assert answer(state, submit()).answer.code == 1000
    assert answer(state, submit(vas_id="OTHER")).answer.code == 4001
    assert answer(state, submit(subject="광고 안내")).answer.code == 4002
    types = answer(state, submit(), content_types=["text/plain", "image/jpeg"])
    assert types.answer.code == 4003


def test_rule_report_delay_and_status_and_no_report() -> None:
    state = make_state(time_scale=0.5)
    state.add_rule(Rule(recipient="01011112222", report_status="Expired", report_delay=7, delay=4))
    state.add_rule(Rule(recipient="01033334444", no_report=True))
    outcome = answer(state, submit("01011112222", delivery_report=True))
    assert outcome.answer.delay == 2.0  # scaled
    assert outcome.reports() == ScheduleReports(
        (PlannedReport("01011112222", "Expired", "NOK"),), 7
    )
    assert answer(state, submit("01033334444", delivery_report=True)).reports() is None


def test_rule_http_status_and_text() -> None:
    state = make_state()
    state.add_rule(Rule(status=3000, status_text="busy", http_status=503))
    result = answer(state, submit()).answer
    assert (result.code, result.text, result.http_status, result.accepted) == (
        3000,
        "busy",
        503,
        False,
    )


def test_rule_overload_opens_a_window_that_counts_later_requests() -> None:
    state = make_state(overload_seconds=60)
    state.add_rule(Rule(overload=True, times=1))
    opened = answer(state, submit())
    assert opened.answer.code == 4030
    assert OpenOverload("VAS1", 60, "VAS1") in opened.effects
    again = answer(state, submit())
    assert again.answer.code == 4030
    assert again.effects == (NoteOverload("VAS1", OverloadHit("VAS1", during=True)),)
    assert state.requests_during_overload("VAS1") == 1
    state.clock.advance(60.5)  # type: ignore[attr-defined]
    assert answer(state, submit()).answer.code == 1000


# -- 4030 windows --------------------------------------------------------------------------------


def test_overload_window_counts_requests_after_the_first_4030() -> None:
    state = make_state(time_scale=0.01)
    state.overload(60, "VAS1")  # 0.6 s at this time scale
    first = answer(state, submit())
    assert first.answer.code == 4030
    assert first.effects == (NoteOverload("VAS1", OverloadHit("VAS1", during=False)),)
    assert state.requests_during_overload("VAS1") == 0
    assert codes(state, submit(), 2) == [4030, 4030]
    assert state.requests_during_overload("VAS1") == 2
    assert answer(state, submit(vas_id="VAS2")).answer.code == 1000
    state.clock.advance(0.5)  # type: ignore[attr-defined]
    assert answer(state, submit()).answer.code == 4030
    state.clock.advance(0.2)  # type: ignore[attr-defined]
    assert answer(state, submit()).answer.code == 1000
    assert state.requests_during_overload("VAS1") == 3


def test_server_wide_window_and_what_it_does_not_touch() -> None:
    state = make_state()
    state.set_tps("VAS1", 1)
    state.overload(10)
    assert codes(state, submit(), 3) == [4030, 4030, 4030]  # no token spent inside the window
    cancel = RequestSummary(operation="CancelReq", vas_id="VAS1", message_id="unknown")
    assert answer(state, cancel).answer.code == 2005  # CancelReq: no overload, no KISA
    state.end_overload(everything=True)
    assert codes(state, submit(vas_id="VAS2"), 1) == [1000]


# -- TPS contracts -------------------------------------------------------------------------------


def test_tps_contract_refuses_with_7103_and_refills_with_time() -> None:
    state = make_state()
    state.set_tps("VAS1", 2)
    outcomes = [answer(state, submit()) for _ in range(3)]
    assert [o.answer.code for o in outcomes] == [1000, 1000, 7103]
    assert outcomes[0].effects == (SpendToken("VAS1"),)
    assert outcomes[2].effects == (RefuseTps("VAS1"),)
    assert state.tps.refused == {"VAS1": 1}
    state.clock.advance(0.5)  # type: ignore[attr-defined]  # one token at 2 TPS
    assert codes(state, submit(), 2) == [1000, 7103]
    assert answer(state, submit(vas_id="FREE")).effects == ()  # no contract: nothing spent


def test_default_tps_and_account_tps() -> None:
    state = make_state(default_tps=1, accounts={"VAS1": VasAccount(tps=3), "VAS2": VasAccount()})
    assert codes(state, submit(), 4) == [1000, 1000, 1000, 7103]
    assert codes(state, submit(vas_id="VAS2"), 2) == [1000, 7103]


# -- accounts and KisaOrigCode -------------------------------------------------------------------


def test_accounts_6024_and_6025() -> None:
    state = make_state(
        accounts={
            "VAS1": VasAccount(password="secret"),
            "OLD": VasAccount(expires_at=datetime(2027, 1, 1, tzinfo=UTC)),
        }
    )
    assert answer(state, submit(vas_id="NOBODY")).answer.code == 6024
    assert answer(state, submit()).answer.code == 6024  # no password
    assert answer(state, submit(auth_password="wrong")).answer.code == 6024
    assert answer(state, submit(auth_password="secret")).answer.code == 1000
    basic = answer(state, submit(), credentials=("VAS1", "secret"))
    assert basic.answer.code == 1000
    assert answer(state, submit(vas_id="OLD")).answer.code == 1000  # an hour before expiry
    assert answer(state, submit(vas_id="OLD"), wall=NEW_YEAR).answer.code == 6025
    # accounts come first: an unknown VASID is refused before its KisaOrigCode is looked at
    assert answer(state, submit(vas_id="NOBODY", kisa_orig_code=None)).answer.code == 6024


@pytest.mark.parametrize("kisa", [None, "", "12345678", "1234567890", "12345678a"])
def test_kisa_orig_code_4032(kisa: str | None) -> None:
    assert answer(make_state(), submit(kisa_orig_code=kisa)).answer.code == 4032
    assert answer(make_state(require_kisa=False), submit(kisa_orig_code=kisa)).answer.code == 1000
    assert answer(make_state(profile="3gpp"), submit(kisa_orig_code=kisa)).answer.code == 1000


# -- CancelReq / ReplaceReq ----------------------------------------------------------------------


def test_cancel_and_replace_know_the_message_ids_given() -> None:
    state = make_state()
    item = ReceivedRequest(
        id=state.store.next_id(),
        received_at=0.0,
        operation="SubmitReq",
        envelope=submit(),
        raw_body=b"",
        content_type="text/xml",
        message_id="M1",
    )
    state.store.add(item)
    for operation in ("CancelReq", "ReplaceReq"):
        known = RequestSummary(operation=operation, vas_id="VAS1", message_id="M1")
        unknown = RequestSummary(operation=operation, vas_id="VAS1", message_id="M2")
        assert answer(state, known).answer.code == 1000
        assert answer(state, unknown).answer.code == 2005
