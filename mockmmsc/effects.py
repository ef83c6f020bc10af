"""What a decision of the mock says, as data: the :class:`Answer` and its effects.

:func:`mockmmsc.decide.decide` returns an :class:`Outcome`; nothing in it has happened yet.
The endpoint applies the effects (:meth:`mockmmsc.state.MockState.apply` for the state's,
the report dispatcher for :class:`ScheduleReports`) right after deciding, before it awaits
anything, so two requests never decide from the same token or window.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockmmsc.scenarios import Action
from mockmmsc.throttle import OverloadHit

__all__ = [
    "Answer",
    "CountRuleHit",
    "Effect",
    "NoteOverload",
    "OpenOverload",
    "Outcome",
    "PlannedReport",
    "RefuseTps",
    "ScheduleReports",
    "SpendToken",
]


@dataclass(frozen=True, slots=True)
class Answer:
    """The MM7 answer decided for a request.

    Attributes:
        code: the StatusCode; text: its StatusText.
        http_status: 200, or a rule's HTTP status (400 and up: answered as a SOAP Fault).
        delay: seconds to wait before answering (already scaled by the time scale).
        action: the rule step that decided it (its faults act on the answer), if any.
        rule_id: the id of that rule.
    """

    code: int
    text: str
    http_status: int = 200
    delay: float = 0.0
    action: Action | None = None
    rule_id: str | None = None

    @property
    def accepted(self) -> bool:
        """A 1xxx status: the request was accepted."""
        return 1000 <= self.code < 2000


@dataclass(frozen=True, slots=True)
class SpendToken:
    """A request of ``vas_id`` within its TPS contract spends a token."""

    vas_id: str


@dataclass(frozen=True, slots=True)
class RefuseTps:
    """A request of ``vas_id`` over its TPS contract was answered 7103 (counted)."""

    vas_id: str


@dataclass(frozen=True, slots=True)
class NoteOverload:
    """A SubmitReq of ``vas_id`` answered 4030 inside a window: the first marks the VASID as
    told, later ones count as requests sent during the pause (``hit.during``)."""

    vas_id: str | None
    hit: OverloadHit


@dataclass(frozen=True, slots=True)
class OpenOverload:
    """A rule opens a 4030 window of ``seconds`` (unscaled) on ``vas_id``; ``answered``: the
    VASID its own 4030 answer already told."""

    vas_id: str | None
    seconds: float
    answered: str | None


@dataclass(frozen=True, slots=True)
class CountRuleHit:
    """The rule ``rule_id`` answered one more request (its sequence moves on)."""

    rule_id: str


@dataclass(frozen=True, slots=True)
class PlannedReport:
    """One delivery report to send: to whom it is about, and its MMStatus and StatusText."""

    recipient: str
    mm_status: str
    status_text: str


@dataclass(frozen=True, slots=True)
class ScheduleReports:
    """Send these delivery reports of the accepted SubmitReq after ``delay`` seconds
    (unscaled). The endpoint applies it once the MessageID is known, unless a fault turned
    the answer into a refusal."""

    reports: tuple[PlannedReport, ...]
    delay: float


Effect = SpendToken | RefuseTps | NoteOverload | OpenOverload | CountRuleHit | ScheduleReports


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision: the answer and what answering it changes."""

    answer: Answer
    effects: tuple[Effect, ...] = ()

    def reports(self) -> ScheduleReports | None:
        """The reports to schedule, if any."""
        for effect in self.effects:
            if isinstance(effect, ScheduleReports):
                return effect
        return None
