"""What the mock answers: a pure decision from a request's summary, the state and the time.

:func:`decide` reads (never changes) the :class:`~mockmmsc.state.MockState` and returns an
:class:`~mockmmsc.effects.Outcome`: the answer and its effects as data (spend a TPS token,
note a request inside a 4030 window, open a window, count a rule's hit, schedule delivery
reports). The endpoint applies them; unit tests call :func:`decide` with a fake clock's time
and fixed probability draws, no sockets and no sleeping.

Decisions, in order (CancelReq / ReplaceReq skip KisaOrigCode and overload):

1. Accounts: unknown VASID or wrong password -> 6024; expired password -> 6025.
2. KisaOrigCode missing or not 9 digits under the lgt profile (``require_kisa``) -> 4032.
3. Overload window on the VASID or the server -> 4030.
4. Contracted TPS exceeded -> 7103.
5. The first applicable rule; then the magic recipients; else 1000 (CancelReq / ReplaceReq of
   an unknown MessageID: 2005).

What comes before (HTTP Basic auth, sizes, media types, unreadable bodies) and after (faults)
is the endpoint's: it needs the HTTP request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from mm7client.codec import RequestSummary
from mm7client.server import status_text
from mockmmsc.effects import (
    Answer,
    CountRuleHit,
    Effect,
    NoteOverload,
    OpenOverload,
    Outcome,
    PlannedReport,
    RefuseTps,
    ScheduleReports,
    SpendToken,
)
from mockmmsc.scenarios import DEFAULT_REPORT, Action, magic_report, magic_status
from mockmmsc.state import MockState

__all__ = [
    "STATUS_ACCOUNT_EXPIRED",
    "STATUS_AUTH_FAILED",
    "STATUS_CORRUPT",
    "STATUS_KISA",
    "STATUS_OVERLOAD",
    "STATUS_TOO_LARGE",
    "STATUS_TPS",
    "decide",
]

STATUS_SUCCESS = 1000
STATUS_TOO_LARGE = 2004
STATUS_CORRUPT = 2007
STATUS_MESSAGE_ID_NOT_FOUND = 2005
STATUS_SERVER_ERROR = 3000
STATUS_UNSUPPORTED_OPERATION = 4003
STATUS_OVERLOAD = 4030
STATUS_KISA = 4032
STATUS_AUTH_FAILED = 6024
STATUS_ACCOUNT_EXPIRED = 6025
STATUS_TPS = 7103

_KISA = re.compile(r"\d{9}")


@lru_cache(maxsize=1024)
def _plain(code: int) -> Answer:
    """The answer ``code`` with its own text (immutable: one per code, shared)."""
    return Answer(code, status_text(code))


@lru_cache(maxsize=1024)
def _status(code: int) -> Outcome:
    """Answering ``code``, nothing else (immutable: one per code, shared)."""
    return Outcome(_plain(code))


def decide(
    request: RequestSummary,
    credentials: tuple[str, str] | None,
    state: MockState,
    now: float,
    *,
    wall: float | None = None,
    content_types: Iterable[str] = (),
    chance: Callable[[], float] | None = None,
) -> Outcome:
    """The answer to ``request`` and its effects; reads ``state``, changes nothing.

    Args:
        request: the envelope's fields (:func:`~mm7client.codec.summarize_request`) of a
            SubmitReq, CancelReq or ReplaceReq.
        credentials: HTTP Basic ``(user, password)`` of the request, if any (an account's
            password may come from there when the envelope has no AuthPassword).
        state: the mock's state.
        now: the state's monotonic clock at the request (windows, TPS).
        wall: epoch seconds at the request (account expiry; default: the state's wall clock).
        content_types: the message's content types, for rules on content type (read only
            when such a rule is tried: a lazy iterable may decode then).
        chance: draws in [0, 1) for rules with a probability (default: the rule book's own
            seeded draws).
    """
    settings = state.settings
    operation = request.operation
    vas_id = request.vas_id
    key = vas_id or ""
    accounts = settings.accounts
    if accounts is not None:
        account = accounts.get(key)
        if account is None:
            return _status(STATUS_AUTH_FAILED)
        if account.password is not None:
            password = request.auth_password
            if password is None and credentials is not None:
                password = credentials[1]
            if password != account.password:
                return _status(STATUS_AUTH_FAILED)
        if account.expires_at is not None:
            moment = state.wall_clock() if wall is None else wall
            if account.expired(datetime.fromtimestamp(moment).astimezone()):
                return _status(STATUS_ACCOUNT_EXPIRED)
    submit = operation == "SubmitReq"
    if (
        submit
        and settings.require_kisa
        and state.profile.name == "lgt"
        and not _KISA.fullmatch(request.kisa_orig_code or "")
    ):
        return _status(STATUS_KISA)
    if submit:
        hit = state.overload_windows.hit(vas_id, now)
        if hit is not None:
            return Outcome(_plain(STATUS_OVERLOAD), (NoteOverload(vas_id, hit),))
    effects: list[Effect] = []
    if state.tps.limited(key):
        if not state.tps.within(key, now):
            return Outcome(_plain(STATUS_TPS), (RefuseTps(key),))
        effects.append(SpendToken(key))
    recipients = request.recipients
    rule = state.rules.choose(
        operation,
        vas_id,
        recipients,
        request.subject,
        content_types,
        chance,
    )
    action: Action | None = None
    if rule is not None:
        action = rule.action
        effects.append(CountRuleHit(rule.rule_id))
        if action.overload:
            seconds = action.overload_seconds
            answered = key if action.status in (None, STATUS_OVERLOAD) else None
            effects.append(
                OpenOverload(
                    vas_id, settings.overload_seconds if seconds is None else seconds, answered
                )
            )
        code = action.status
        if code is None:
            code = STATUS_OVERLOAD if action.overload else _default_code(recipients)
        answer = Answer(
            code,
            action.status_text if action.status_text is not None else status_text(code),
            http_status=action.http_status or 200,
            delay=settings.scaled(action.delay),
            action=action,
            rule_id=rule.rule_id,
        )
    elif not submit:  # CancelReq, ReplaceReq
        known = state.store.by_message_id(request.message_id or "") is not None
        answer = _plain(STATUS_SUCCESS if known else STATUS_MESSAGE_ID_NOT_FOUND)
    else:
        answer = _plain(_default_code(recipients))
    if (
        submit
        and request.delivery_report
        and answer.accepted
        and not (action is not None and action.no_report)
    ):
        effects.append(_reports(recipients, action, settings.report_delay))
    if not effects and action is None:
        return _status(answer.code)
    return Outcome(answer, tuple(effects))


def _default_code(recipients: Sequence[str]) -> int:
    """The status of the first magic ``0109999CCCC`` recipient, else 1000."""
    for number in recipients:
        code = magic_status(number)
        if code is not None:
            return code
    return STATUS_SUCCESS


def _reports(recipients: Sequence[str], action: Action | None, delay: float) -> ScheduleReports:
    """One report per recipient: the rule's status, else the magic ``0108888000N`` one, else
    Retrieved/OK."""
    if action is not None and action.report_delay is not None:
        delay = action.report_delay
    planned = []
    for recipient in recipients:
        if action is not None and action.report_status is not None:
            mm_status = action.report_status
            text = action.report_status_text or (
                "OK" if mm_status.lower() in ("retrieved", "forwarded") else "NOK"
            )
        else:
            mm_status, text = magic_report(recipient) or DEFAULT_REPORT
        planned.append(PlannedReport(recipient, mm_status, text))
    return ScheduleReports(tuple(planned), delay)
