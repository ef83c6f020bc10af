"""Result-code tables and normalization: one stored result per message, whatever was said.

* LGT MM7 (``lgt_mm7.csv``): :func:`normalize_submit_status` (SubmitRsp StatusCode,
  resultType 1), :func:`normalize_report` (DeliveryReport MMStatus + StatusText, resultType 2),
  :func:`normalize_transport_failure` (no MM7 answer at all), all returning a
  :class:`NormalizedResult` with a :class:`Category` telling the caller what to do.
* Alim Talk (``alimtalk.csv``): :func:`lookup_alimtalk`, :func:`classify`,
  :func:`fallback_for` and :func:`final_outcome`.
* :func:`lookup` searches both tables by code (used by ``mm7 codes``).
"""

from __future__ import annotations

from mm7client.codes.alimtalk import (
    AGT_DISALLOWED_TYPE,
    AlimTalkCode,
    AlimTalkGroup,
    AlimTalkOutcome,
    Fallback,
    MsgType,
    Outcome,
    alimtalk_codes,
    classify,
    fallback_for,
    final_outcome,
    lookup_alimtalk,
    lookup_alimtalk_all,
)
from mm7client.codes.lgt import (
    COLUMNS,
    Category,
    CodeRow,
    CodeTable,
    MappingFileError,
    NormalizedResult,
    TransportFailure,
    normalize_report,
    normalize_submit_status,
    normalize_transport_failure,
)

__all__ = [
    "AGT_DISALLOWED_TYPE",
    "COLUMNS",
    "AlimTalkCode",
    "AlimTalkGroup",
    "AlimTalkOutcome",
    "Category",
    "CodeRow",
    "CodeTable",
    "Fallback",
    "MappingFileError",
    "MsgType",
    "NormalizedResult",
    "Outcome",
    "TransportFailure",
    "alimtalk_codes",
    "classify",
    "fallback_for",
    "final_outcome",
    "lookup",
    "lookup_alimtalk",
    "lookup_alimtalk_all",
    "normalize_report",
    "normalize_submit_status",
    "normalize_transport_failure",
]


def lookup(
    code: str, *, tables: str = "all", table: CodeTable | None = None
) -> list[CodeRow | AlimTalkCode]:
    """Every row matching ``code`` (case-insensitive) in the LGT/MM7 table, Alim Talk, or both.

    ``tables`` is ``"lgt"``, ``"alimtalk"`` or ``"all"``; ``table`` replaces the shipped
    LGT table (e.g. one with user overrides).
    """
    if tables not in ("lgt", "alimtalk", "all"):
        raise ValueError(f"tables must be 'lgt', 'alimtalk' or 'all', not {tables!r}")
    found: list[CodeRow | AlimTalkCode] = []
    if tables in ("lgt", "all"):
        found.extend((table or CodeTable.default()).lookup(code))
    if tables in ("alimtalk", "all"):
        found.extend(lookup_alimtalk_all(code))
    return found
