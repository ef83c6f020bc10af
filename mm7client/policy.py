"""The send policy, sans-IO: what the client does after each attempt, and the final result.

In the spirit of h11, the decisions live apart from the I/O. The client's loop carries bytes and
waits; this module tells it what to do::

    outcome = read_reply(reply.status, reply.body, reply.content_type, limits)
    #   or TransportFailed(error.kind, error.detail) when no HTTP answer came
    step = policy.next_step(state, outcome)
    #   Resend(delay)          a ``retry`` result within the retry budget: back off, resend
    #   Pause(vas_id, s)       4030: pause the VASID, then resend (or return ``final``)
    #   SlowDown(vas_id)       7103: lower the VASID's TPS, then resend (or return ``final``)
    #   Final(result)          the one :class:`SubmitResult` of the message

The rules, each in one place here:

* What an outcome means (:meth:`SendPolicy.judge`): carrier status codes and faults with a
  status are read with the code table; failures below MM7 use the table's ``TRANSPORT`` rows;
  an HTTP 4xx without an MM7 answer (401, 404...) is ``failed`` (resending cannot help) except
  408 / 425 / 429; an answer whose TransactionID is not the request's is ``ambiguous``.
* ``throttled`` results: a pause (the result's pause, 60 s for LGT 4030, or
  ``RetryPolicy.pause_seconds``) or a slow-down (7103), then a resend within
  ``max_throttled_resends``.
* ``retry`` results: a resend after an exponential backoff with jitter within ``max_attempts``.
* A connection lost after sending (``ambiguous``) is final unless ``retry_ambiguous``.

No event loop, no clock and no socket is needed to drive it: the caller passes the elapsed time
in the :class:`AttemptState`, and the random draws of the jitter come from the policy's own
``random.Random`` (seeded for reproducible tests).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from mm7client.codec import Limits, decode
from mm7client.codec.mime import DEFAULT_LIMITS
from mm7client.codes import (
    Category,
    CodeTable,
    NormalizedResult,
    TransportFailure,
    normalize_submit_status,
    normalize_transport_failure,
)
from mm7client.errors import ParseError
from mm7client.model import Response, SoapFault, Status, SubmitResponse
from mm7client.throttle.retry import RetryPolicy

__all__ = [
    "Answered",
    "AttemptState",
    "Final",
    "NotMM7",
    "Outcome",
    "Pause",
    "Resend",
    "RetryPolicy",
    "SendPolicy",
    "SlowDown",
    "Step",
    "SubmitResult",
    "TransportFailed",
    "Verdict",
    "read_reply",
]

#: HTTP 4xx statuses worth retrying (timeout, too early, too many requests); other 4xx are final.
TRANSIENT_CLIENT_ERRORS = frozenset({408, 425, 429})
_MAX_REMEMBERED_STATUSES = 256


# -- what came back from one attempt -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answered:
    """An MM7 answer: a decoded response (SubmitRsp...) or a SOAP fault, and its HTTP status."""

    http_status: int
    message: Response | SoapFault


@dataclass(frozen=True, slots=True)
class NotMM7:
    """An HTTP answer without a usable MM7 answer (an HTML error page, garbage, a fault without
    a status, a message that is not a response)."""

    http_status: int
    detail: str


@dataclass(frozen=True, slots=True)
class TransportFailed:
    """No HTTP answer at all: what the transport saw (refused, timeout, dropped after sending)."""

    kind: TransportFailure
    detail: str


Outcome = Answered | NotMM7 | TransportFailed


def read_reply(
    status: int, body: bytes, content_type: str | None, limits: Limits = DEFAULT_LIMITS
) -> Answered | NotMM7:
    """Decode an HTTP answer into an :data:`Outcome` (pure; never raises on bad input)."""
    try:
        answer = decode(body, content_type, limits)
    except ParseError as exc:
        return NotMM7(status, _short(str(exc)))
    if isinstance(answer, SoapFault):
        if answer.status is None:
            return NotMM7(status, _short(f"SOAP fault {answer.fault_code}: {answer.fault_string}"))
        return Answered(status, answer)
    if not isinstance(answer, Response):
        return NotMM7(status, f"unexpected {type(answer).__name__} in answer")
    return Answered(status, answer)


# -- the state of one message's attempts ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptState:
    """Where one message stands after an attempt.

    Attributes:
        vas_id: the VASID the message is sent (and throttled) under (``""``: none).
        operation: ``"SubmitReq"``, ``"CancelReq"`` or ``"ReplaceReq"``.
        transaction_id: the TransactionID of the attempt just made.
        attempts: HTTP requests made so far, this one included.
        retries: resends after ``retry`` results so far (the retry budget used).
        throttled: resends after ``throttled`` results so far.
        elapsed: seconds since the message was handed to the client.
    """

    vas_id: str
    operation: str
    transaction_id: str
    attempts: int = 1
    retries: int = 0
    throttled: int = 0
    elapsed: float = 0.0

    def at(self, elapsed: float) -> AttemptState:
        """This state, ``elapsed`` seconds after the message was handed over."""
        return AttemptState(
            self.vas_id,
            self.operation,
            self.transaction_id,
            self.attempts,
            self.retries,
            self.throttled,
            elapsed,
        )

    def after(self, step: Step, transaction_id: str) -> AttemptState:
        """The state for the resend a step asks for, under its new TransactionID."""
        retries, throttled = self.retries, self.throttled
        if isinstance(step, Resend):
            retries += 1
        else:
            throttled += 1
        return replace(
            self,
            transaction_id=transaction_id,
            attempts=self.attempts + 1,
            retries=retries,
            throttled=throttled,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one attempt's outcome means: the normalized result and what it came with."""

    normalized: NormalizedResult
    message_id: str | None = None
    status: Status | None = None
    http_status: int | None = None
    ambiguous: bool = False
    fault: SoapFault | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The final result of one message (SubmitReq, CancelReq or ReplaceReq).

    Attributes:
        normalized: the normalized result (carrier status, SOAP fault status or transport
            failure); ``normalized.category`` says what happened.
        message_id: the MessageID the MMSC assigned (SubmitRsp), else ``None``.
        status: the raw ``<Status>`` of the last answer (``None`` without an MM7 answer).
        http_status: the HTTP status of the last answer (``None`` without one).
        attempts: HTTP requests made for this message (1 when the first answer was final).
        transaction_id: the TransactionID of the last attempt.
        elapsed: seconds from the call to the final result (waits and retries included).
        ambiguous: the connection dropped after the request was sent: the MMSC may have
            accepted the message; it was not resent.
        vas_id: the VASID the message was sent (and throttled) under.
        fault: the SOAP fault of the last answer, if it was one.
        operation: ``"SubmitReq"``, ``"CancelReq"`` or ``"ReplaceReq"``.
    """

    normalized: NormalizedResult
    message_id: str | None = None
    status: Status | None = None
    http_status: int | None = None
    attempts: int = 1
    transaction_id: str | None = None
    elapsed: float = 0.0
    ambiguous: bool = False
    vas_id: str | None = None
    fault: SoapFault | None = None
    operation: str = "SubmitReq"

    @property
    def category(self) -> Category:
        """The normalized category (success / failed / retry / throttled / unknown)."""
        return self.normalized.category

    @property
    def ok(self) -> bool:
        """True when the MMSC accepted the message."""
        return self.normalized.category is Category.SUCCESS

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: the seed table's columns (``NormalizedResult.to_dict``) and ours."""
        data = self.normalized.to_dict()
        data.update(
            {
                "messageId": self.message_id,
                "statusCode": self.status.code if self.status is not None else None,
                "httpStatus": self.http_status,
                "attempts": self.attempts,
                "transactionId": self.transaction_id,
                "elapsed": round(self.elapsed, 6),
                "ambiguous": self.ambiguous,
                "vasId": self.vas_id,
                "operation": self.operation,
            }
        )
        if self.fault is not None:
            data["fault"] = {
                "faultcode": self.fault.fault_code,
                "faultstring": self.fault.fault_string,
            }
        return data


# -- the next step ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resend:
    """Resend the message (with a new TransactionID) after ``delay`` seconds."""

    delay: float
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Pause:
    """4030: pause ``vas_id`` for ``seconds``; then resend, or return ``final`` when set."""

    vas_id: str
    seconds: float
    verdict: Verdict
    final: SubmitResult | None = None


@dataclass(frozen=True, slots=True)
class SlowDown:
    """7103: lower the TPS of ``vas_id``; then resend after ``delay``, or return ``final``."""

    vas_id: str
    verdict: Verdict
    delay: float = 0.0
    final: SubmitResult | None = None


@dataclass(frozen=True, slots=True)
class Final:
    """The message's one final result."""

    result: SubmitResult


Step = Resend | Pause | SlowDown | Final


class SendPolicy:
    """The client's decisions after each attempt (pure: no I/O, no clock, no event loop).

    Args:
        retry: budgets, backoff and the 4030 pause (:class:`RetryPolicy`).
        table: a code table replacing the shipped LGT one.
        rng: the source of the backoff jitter (a seeded ``random.Random`` in tests).
    """

    def __init__(
        self,
        retry: RetryPolicy | None = None,
        *,
        table: CodeTable | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.table = table
        self.rng = rng or random.Random()
        # (code, text) -> its normalized result: the same few statuses come back all day
        self._statuses: dict[tuple[str, str | None], NormalizedResult] = {}

    def _normalize_status(self, status: Status) -> NormalizedResult:
        key = (status.code, status.text)
        normalized = self._statuses.get(key)
        if normalized is None:
            normalized = normalize_submit_status(status.code, status.text, table=self.table)
            if len(self._statuses) >= _MAX_REMEMBERED_STATUSES:
                self._statuses.clear()
            self._statuses[key] = normalized
        return normalized

    def __repr__(self) -> str:
        return f"SendPolicy({self.retry!r})"

    def judge(self, outcome: Outcome, transaction_id: str) -> Verdict:
        """What ``outcome`` means for the attempt sent as ``transaction_id`` (its category)."""
        table = self.table
        if isinstance(outcome, Answered):
            message = outcome.message
            if isinstance(message, SoapFault):
                status = message.status
                if status is None:  # read_reply gives NotMM7 for these; built by hand here
                    detail = f"SOAP fault {message.fault_code}: {message.fault_string}"
                    return self.judge(NotMM7(outcome.http_status, _short(detail)), transaction_id)
                return Verdict(
                    self._normalize_status(status),
                    status=status,
                    http_status=outcome.http_status,
                    fault=message,
                )
            if message.transaction_id and message.transaction_id != transaction_id:
                # the answer belongs to another request: neither its status nor its MessageID
                # can be trusted, and this message may have been accepted
                detail = (
                    f"answer TransactionID {_short(message.transaction_id, 60)!r} does not "
                    f"match the request's {transaction_id!r}"
                )
                return Verdict(
                    normalize_transport_failure(TransportFailure.AMBIGUOUS, detail, table=table),
                    http_status=outcome.http_status,
                    ambiguous=True,
                )
            status = message.status
            return Verdict(
                self._normalize_status(status),
                message_id=message.message_id if isinstance(message, SubmitResponse) else None,
                status=status,
                http_status=outcome.http_status,
            )
        if isinstance(outcome, NotMM7):
            code = outcome.http_status
            kind = TransportFailure.HTTP_ERROR if code >= 400 else TransportFailure.UNPARSEABLE
            normalized = normalize_transport_failure(
                kind, f"HTTP {code}: {outcome.detail}", table=table
            )
            if 400 <= code < 500 and code not in TRANSIENT_CLIENT_ERRORS:
                # 401, 403, 404, 413...: resending the same request cannot help
                normalized = replace(normalized, category=Category.FAILED)
            return Verdict(normalized, http_status=code)
        return Verdict(
            normalize_transport_failure(outcome.kind, outcome.detail, table=table),
            ambiguous=outcome.kind is TransportFailure.AMBIGUOUS,
        )

    def next_step(self, state: AttemptState, outcome: Outcome) -> Step:
        """The step after ``outcome`` of the attempt ``state`` describes."""
        return self.step_for(state, self.judge(outcome, state.transaction_id))

    def step_for(self, state: AttemptState, verdict: Verdict) -> Step:
        """The step after an attempt already judged."""
        policy = self.retry
        normalized = verdict.normalized
        category = normalized.category
        if category is Category.THROTTLED:
            final = (
                None
                if state.throttled < policy.max_throttled_resends
                else self.final(state, verdict)
            )
            if normalized.pause_seconds is not None:
                seconds = (
                    policy.pause_seconds
                    if policy.pause_seconds is not None
                    else normalized.pause_seconds
                )
                return Pause(state.vas_id, seconds, verdict, final)
            return SlowDown(state.vas_id, verdict, policy.throttle_retry_delay, final)
        retryable = category is Category.RETRY or (
            verdict.ambiguous and policy.retry_ambiguous and category is Category.UNKNOWN
        )
        if retryable and state.retries + 1 < policy.max_attempts:
            return Resend(policy.backoff(state.retries + 1, self.rng), verdict)
        return Final(self.final(state, verdict))

    @staticmethod
    def final(state: AttemptState, verdict: Verdict) -> SubmitResult:
        """The :class:`SubmitResult` of the message, ending with ``verdict``."""
        return SubmitResult(
            normalized=verdict.normalized,
            message_id=verdict.message_id,
            status=verdict.status,
            http_status=verdict.http_status,
            attempts=state.attempts,
            transaction_id=state.transaction_id,
            elapsed=state.elapsed,
            ambiguous=verdict.ambiguous,
            vas_id=state.vas_id or None,
            fault=verdict.fault,
            operation=state.operation,
        )


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
