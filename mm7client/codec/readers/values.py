"""Lenient readers of MM7 element values: booleans, times, durations, counts, enums."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from mm7client.model import TimeValue

log = logging.getLogger(__name__)


_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def parse_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        log.debug("unreadable dateTime %r", value)
        return None


def parse_count(value: str | None) -> int | None:
    """A non-negative integer of up to 18 digits, else ``None`` (never raises)."""
    value = value.strip() if value else ""
    return int(value) if value.isdecimal() and len(value) <= 18 else None


def parse_time(value: str | None) -> TimeValue | None:
    if not value:
        return None
    value = value.strip()
    match = _DURATION.fullmatch(value)
    if match and value not in ("P", "-P"):
        sign, years, months, days, hours, minutes, seconds = match.groups()
        try:
            delta = timedelta(
                days=int(years or 0) * 365 + int(months or 0) * 30 + int(days or 0),
                hours=int(hours or 0),
                minutes=int(minutes or 0),
                seconds=float(seconds or 0),
            )
        except (ValueError, OverflowError):  # beyond timedelta, or too many digits for int
            log.debug("unreadable duration %r", value)
            return None
        return -delta if sign else delta
    return parse_datetime(value)


E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: str | None) -> E | None:
    if not value:
        return None
    lowered = value.strip().lower()
    for member in kind:
        if member.value.lower() == lowered:
            return member
    return None
