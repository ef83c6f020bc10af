"""Lenient readers of MM7 element values: booleans, times, durations, counts, enums."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
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


def parse_timestamp(value: str | None) -> tuple[datetime | None, str | None]:
    """A TimeStamp: ``(date-time, raw text)``. The raw text is kept whenever it is not
    ISO 8601 (xs:dateTime), read or not: a peer's Java ``Date.toString()`` form
    (``Wed Dec 02 05:40:59 UTC 2026``) is read, anything else gives ``(None, text)``."""
    if not value:
        return None, None
    text = value.strip()
    try:
        return datetime.fromisoformat(text), None
    except ValueError:
        pass
    parsed = _java_date(text)
    if parsed is None:
        log.debug("unreadable TimeStamp %r (kept as text)", text)
    return parsed, text


# java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy"
_JAVA_DATE = re.compile(
    r"(?:[A-Za-z]{3},? )?([A-Za-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) "
    r"([A-Za-z]{1,5})(?:([+-])(\d{1,2}):?(\d{2}))? (\d{4})"
)
_MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_ZONES = {"utc": 0, "gmt": 0, "z": 0, "ut": 0, "kst": 9}


def _java_date(text: str) -> datetime | None:
    match = _JAVA_DATE.fullmatch(text)
    if match is None:
        return None
    month, day, hour, minute, second, zone, sign, off_h, off_m, year = match.groups()
    hours = _ZONES.get(zone.lower())
    if month.lower() not in _MONTHS or hours is None:
        return None
    offset = timedelta(hours=hours)
    if sign:
        extra = timedelta(hours=int(off_h), minutes=int(off_m))
        offset += extra if sign == "+" else -extra
    try:
        return datetime(
            int(year),
            _MONTHS[month.lower()],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:  # day 31 of a short month, hour 25...
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
