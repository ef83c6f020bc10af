"""KakaoTalk Alim Talk mediator codes and the MSG_TYPE fallback policy.

``alimtalk.csv`` in this package holds every code of the seed table (MSG_TYPE, RESULT_CD1,
RESULT_CD2 for SMS and MMS, agent codes) with its description, the system that raises it and
an ``outcome`` (success / failed / pending; empty for MSG_TYPE rows, which are not results).

Policy (MSG_TYPE semantics):

* ``KS`` / ``KM``: send the Alim Talk; on any Alim Talk failure send an SMS / LMS(MMS) instead.
* ``KX``: Alim Talk only, never an alternative message.
* ``XS`` / ``XM``: no Alim Talk; send SMS / LMS(MMS) directly.
* ``KM`` / ``XM`` need an LMS delivery contract; without one the agent answers ``AGT_160``.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

logger = logging.getLogger(__name__)

#: The agent code for a message type that needs a missing LMS delivery contract.
AGT_DISALLOWED_TYPE = "AGT_160"


class Outcome(StrEnum):
    """Classification of an Alim Talk result code."""

    SUCCESS = "success"
    FAILED = "failed"
    PENDING = "pending"
    """Sent, no report yet (``SMS_99``, ``MMS_99``), or no result code at all yet."""
    UNKNOWN = "unknown"
    """A code that is not in the table."""


class AlimTalkGroup(StrEnum):
    """The seed's code categories, by their short name."""

    MSG_TYPE = "MSG_TYPE"
    RESULT_CD1 = "RESULT_CD1"
    RESULT_CD2 = "RESULT_CD2"
    AGENT = "AGT"


class MsgType(StrEnum):
    """The mediator's MSG_TYPE values."""

    KS = "KS"
    """Alim Talk, SMS alternative on failure."""
    KM = "KM"
    """Alim Talk, LMS(MMS) alternative on failure."""
    KX = "KX"
    """Alim Talk only."""
    XS = "XS"
    """SMS only."""
    XM = "XM"
    """LMS/MMS only."""


class Fallback(StrEnum):
    """Which alternative message to send (or that was sent directly)."""

    NONE = "none"
    SMS = "sms"
    LMS_MMS = "lms_mms"


@dataclass(frozen=True, slots=True)
class AlimTalkCode:
    """One code of the Alim Talk table.

    ``category`` is the seed's section label verbatim (e.g. ``RESULT_CD2 (SMS result code)``);
    ``outcome`` is None for MSG_TYPE rows.
    """

    category: str
    code: str
    description: str
    system: str
    outcome: Outcome | None

    @property
    def group(self) -> AlimTalkGroup:
        """The short category: MSG_TYPE, RESULT_CD1, RESULT_CD2 or AGT."""
        head = self.category.split("(", 1)[0].strip()
        if head.lower().startswith("agent"):
            return AlimTalkGroup.AGENT
        return AlimTalkGroup(head)

    def as_row(self) -> dict[str, Any]:
        """The row keyed by the CSV's column names."""
        return {
            "category": self.category,
            "code": self.code,
            "description": self.description,
            "system": self.system,
            "outcome": None if self.outcome is None else str(self.outcome),
        }


@dataclass(frozen=True, slots=True)
class AlimTalkOutcome:
    """The final (or current) outcome of one Alim Talk message.

    ``deciding_code`` is the code that decided it (None while pending with no code);
    ``fallback`` is the alternative (or direct) message the MSG_TYPE calls for.
    """

    msg_type: MsgType
    outcome: Outcome
    deciding_code: str | None
    fallback: Fallback
    description: str = ""

    @property
    def is_final(self) -> bool:
        """True for success or failed."""
        return self.outcome in (Outcome.SUCCESS, Outcome.FAILED)

    def as_row(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return {
            "msgType": str(self.msg_type),
            "outcome": str(self.outcome),
            "decidingCode": self.deciding_code,
            "fallback": str(self.fallback),
            "description": self.description,
        }


@cache
def alimtalk_codes() -> tuple[AlimTalkCode, ...]:
    """Every code of the shipped table, in the seed's order."""
    text = resources.files(__package__ or "mm7client.codes").joinpath("alimtalk.csv")
    reader = csv.DictReader(io.StringIO(text.read_text("utf-8").removeprefix("\ufeff")))
    return tuple(
        AlimTalkCode(
            category=record["category"],
            code=record["code"],
            description=record["description"],
            system=record["system"],
            outcome=Outcome(record["outcome"]) if record["outcome"] else None,
        )
        for record in reader
    )


def _norm(code: str) -> str:
    return code.strip().upper()


def lookup_alimtalk_all(code: str) -> list[AlimTalkCode]:
    """Every row for ``code`` (case-insensitive); ``OK`` is listed under two categories."""
    wanted = _norm(code)
    return [row for row in alimtalk_codes() if row.code.upper() == wanted]


def lookup_alimtalk(code: str, group: AlimTalkGroup | str | None = None) -> AlimTalkCode | None:
    """The row for ``code`` (case-insensitive), optionally within one group; None if unknown."""
    wanted_group = None if group is None else AlimTalkGroup(group)
    for row in lookup_alimtalk_all(code):
        if wanted_group is None or row.group is wanted_group:
            return row
    return None


def classify(code: str) -> Outcome:
    """Classify a result code: success, failed, pending (``SMS_99``/``MMS_99``) or unknown.

    Raises ValueError for a MSG_TYPE value, which is not a result.
    """
    for row in lookup_alimtalk_all(code):
        if row.outcome is not None:
            return row.outcome
        raise ValueError(f"{code!r} is a MSG_TYPE, not a result code")
    logger.info("unknown Alim Talk code %r", code)
    return Outcome.UNKNOWN


def _msg_type(value: MsgType | str) -> MsgType:
    return MsgType(_norm(str(value)))


def _needs_lms(msg_type: MsgType) -> bool:
    return msg_type in (MsgType.KM, MsgType.XM)


def _is_disallowed(code: str | None) -> bool:
    return code is not None and _norm(code) == AGT_DISALLOWED_TYPE


def fallback_for(
    msg_type: MsgType | str, result_cd1: str | None = None, *, lms_contract: bool = True
) -> Fallback:
    """Which alternative message to send given the MSG_TYPE and the Alim Talk result.

    KS / KM: SMS / LMS(MMS) on any Alim Talk failure (any RESULT_CD1 other than ``OK``,
    unknown codes included), nothing while there is no RESULT_CD1 yet. KX: never. XS / XM:
    SMS / LMS(MMS) directly, whatever RESULT_CD1 says. No LMS(MMS) without an LMS contract,
    and nothing after ``AGT_160``.
    """
    kind = _msg_type(msg_type)
    if (_needs_lms(kind) and not lms_contract) or _is_disallowed(result_cd1):
        return Fallback.NONE
    if kind is MsgType.XS:
        return Fallback.SMS
    if kind is MsgType.XM:
        return Fallback.LMS_MMS
    if kind is MsgType.KX or result_cd1 is None:
        return Fallback.NONE
    if classify(result_cd1) is Outcome.SUCCESS:
        return Fallback.NONE
    return Fallback.SMS if kind is MsgType.KS else Fallback.LMS_MMS


def _decided(kind: MsgType, code: str, fallback: Fallback) -> AlimTalkOutcome:
    row = lookup_alimtalk(code)
    return AlimTalkOutcome(
        msg_type=kind,
        outcome=classify(code),
        deciding_code=row.code if row else code,
        fallback=fallback,
        description=row.description if row else "",
    )


def final_outcome(
    msg_type: MsgType | str,
    result_cd1: str | None,
    result_cd2: str | None = None,
    *,
    lms_contract: bool = True,
) -> AlimTalkOutcome:
    """The outcome of a message from its MSG_TYPE, RESULT_CD1 (Kakao) and RESULT_CD2 (SMS/MMS).

    * KM / XM without an LMS contract (or any ``AGT_160``): failed, decided by ``AGT_160``.
    * KS / KM: ``OK`` in RESULT_CD1 is success; any other RESULT_CD1 means the alternative
      message was due and RESULT_CD2 decides (pending while it is missing).
    * KX: RESULT_CD1 decides (RESULT_CD2 such as ``SMS_21`` only when RESULT_CD1 is missing).
    * XS / XM: RESULT_CD2 decides.

    Missing codes give ``pending``; codes not in the table give ``unknown``.
    Raises ValueError for an invalid MSG_TYPE or a MSG_TYPE value given as a result code.
    """
    kind = _msg_type(msg_type)
    if (_needs_lms(kind) and not lms_contract) or any(
        _is_disallowed(code) for code in (result_cd1, result_cd2)
    ):
        return _decided(kind, AGT_DISALLOWED_TYPE, Fallback.NONE)
    fallback = fallback_for(kind, result_cd1, lms_contract=lms_contract)
    if kind in (MsgType.XS, MsgType.XM):
        decider = result_cd2
    elif kind is MsgType.KX:
        decider = result_cd1 if result_cd1 is not None else result_cd2
    elif result_cd1 is None or fallback is Fallback.NONE:
        decider = result_cd1
    else:
        decider = result_cd2
    if decider is None:
        return AlimTalkOutcome(kind, Outcome.PENDING, None, fallback)
    return _decided(kind, decider, fallback)
