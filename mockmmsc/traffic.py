"""Per-VASID traffic of the last minutes, for the inbox's traffic view (``GET /api/traffic``).

:class:`TrafficMeter` counts the MM7 requests answered per VASID and per second, split in four
series (:data:`SERIES`: accepted, 7103, 4030, other), and remembers the 4030 windows opened
and closed. It is pure and bounded: every method takes the time it acts at (the mock's
monotonic clock, so unit tests use plain numbers), each VASID has a ring of ``seconds``
per-second counters that is reused as time goes on, at most ``max_vas_ids`` VASIDs are kept
(the one idle the longest is forgotten first) and at most ``max_windows`` windows. Its memory
is the same after a minute and after a month.

:meth:`TrafficMeter.snapshot` reads it as plain data (times relative to the current second)
that the API serves as JSON.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_SECONDS",
    "MAX_VAS_IDS",
    "MAX_WINDOWS",
    "SERIES",
    "TrafficMeter",
    "TrafficSnapshot",
    "series_of",
]

#: The series every VASID's requests are split in, in drawing order.
SERIES = ("accepted", "7103", "4030", "other")
#: Seconds each VASID's ring covers (the longest span a snapshot shows).
DEFAULT_SECONDS = 600
#: VASIDs kept at once.
MAX_VAS_IDS = 64
#: 4030 windows remembered at once.
MAX_WINDOWS = 256

_ACCEPTED, _TPS, _OVERLOAD, _OTHER = range(len(SERIES))


def series_of(code: int | None) -> int:
    """The index in :data:`SERIES` of a request answered with status ``code`` (a 1xxx status
    is accepted; no status at all, a fault or any other status is "other")."""
    if code is None:
        return _OTHER
    if 1000 <= code < 2000:
        return _ACCEPTED
    if code == 7103:
        return _TPS
    if code == 4030:
        return _OVERLOAD
    return _OTHER


class _Ring:
    """One VASID's per-second counters: slot ``s % size`` holds second ``s`` when
    ``stamps[slot] == s`` (otherwise it is stale and reads as zeros); one array per series."""

    __slots__ = ("counts", "last", "size", "stamps")

    def __init__(self, size: int) -> None:
        self.size = size
        self.stamps = array("q", [-1]) * size
        self.counts = [array("Q", [0]) * size for _ in SERIES]
        self.last = -1  # the latest second counted

    def add(self, second: int, series: int) -> None:
        slot = second % self.size
        if self.stamps[slot] != second:
            self.stamps[slot] = second
            for column in self.counts:
                column[slot] = 0
        self.counts[series][slot] += 1
        if second > self.last:
            self.last = second

    def _slice(self, values: array[int], lo: int, hi: int) -> list[int]:
        """``values`` of the slots of seconds ``lo`` .. ``hi`` (at most ``size`` of them)."""
        start, stop = lo % self.size, hi % self.size + 1
        if start < stop:
            return values[start:stop].tolist()
        return values[start:].tolist() + values[:stop].tolist()

    def read(self, first: int, last: int) -> list[list[int]]:
        """Per series, the counts of seconds ``first`` .. ``last`` (inclusive)."""
        lo, hi = max(first, self.last - self.size + 1), min(last, self.last)
        if lo > hi:
            return [[0] * (last - first + 1) for _ in SERIES]
        before, after = [0] * (lo - first), [0] * (last - hi)
        fresh = [
            stamp == second
            for stamp, second in zip(
                self._slice(self.stamps, lo, hi), range(lo, hi + 1), strict=True
            )
        ]
        stale = not all(fresh)
        out = []
        for column in self.counts:
            counts = self._slice(column, lo, hi)
            if stale:
                counts = [count if ok else 0 for count, ok in zip(counts, fresh, strict=True)]
            out.append(before + counts + after)
        return out


@dataclass(slots=True)
class _Window:
    vas_id: str | None  # None: every VASID
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class TrafficSnapshot:
    """What :meth:`TrafficMeter.snapshot` read, times in seconds relative to the start of the
    current second (bucket ``i`` of ``seconds`` covers ``[i - seconds + 1, i - seconds + 2)``).

    Attributes:
        seconds: buckets per series.
        elapsed: how far into the current (last) bucket the snapshot was taken, 0 <= x < 1.
        vas_ids: VASID (None: requests without one) -> per-series counts, oldest second first.
        windows: the 4030 windows overlapping the span as (VASID or None for every VASID,
            from, to); a window still open ends in the future (``to`` > ``elapsed``).
        forgotten_vas_ids: VASIDs dropped so far to stay within the bound.
    """

    seconds: int
    elapsed: float
    vas_ids: dict[str | None, tuple[list[int], ...]]
    windows: list[tuple[str | None, float, float]]
    forgotten_vas_ids: int

    def to_dict(
        self, tps_of: Callable[[str], float | None] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """The JSON form served by ``GET /api/traffic`` (``tps_of``: a VASID's contracted TPS,
        or None when unlimited; ``extra``: more top-level fields)."""
        traffic = []
        for vas_id in sorted(self.vas_ids, key=lambda v: (v is not None, v or "")):
            columns = self.vas_ids[vas_id]
            totals = [sum(column) for column in columns]
            per_second = [sum(values) for values in zip(*columns, strict=True)]
            traffic.append(
                {
                    "vas_id": vas_id,
                    "tps": tps_of(vas_id) if tps_of is not None and vas_id is not None else None,
                    "counts": dict(zip(SERIES, columns, strict=True)),
                    "totals": dict(zip(SERIES, totals, strict=True)),
                    "peak": max(per_second, default=0),
                }
            )
        return {
            "seconds": self.seconds,
            "elapsed": round(self.elapsed, 3),
            "series": list(SERIES),
            "traffic": traffic,
            "windows": [
                {"vas_id": vas_id, "from": round(start, 3), "to": round(end, 3)}
                for vas_id, start, end in self.windows
            ],
            "forgotten_vas_ids": self.forgotten_vas_ids,
            **extra,
        }


class TrafficMeter:
    """Requests per second per VASID over the last ``seconds``, and the 4030 windows.

    Args:
        seconds: the span each VASID's ring covers (and the longest snapshot).
        max_vas_ids: VASIDs kept; a new one beyond it replaces the one idle the longest.
        max_windows: 4030 windows kept; the oldest go first (and any that ended before the
            span, whenever a window opens).
    """

    def __init__(
        self,
        seconds: int = DEFAULT_SECONDS,
        *,
        max_vas_ids: int = MAX_VAS_IDS,
        max_windows: int = MAX_WINDOWS,
    ) -> None:
        if seconds < 1:
            raise ValueError(f"seconds={seconds!r}: must be >= 1")
        if max_vas_ids < 1 or max_windows < 1:
            raise ValueError(f"max_vas_ids={max_vas_ids!r}, max_windows={max_windows!r}: >= 1")
        self.seconds = seconds
        self.max_vas_ids = max_vas_ids
        self.max_windows = max_windows
        self._rings: dict[str | None, _Ring] = {}
        self._windows: list[_Window] = []
        self.forgotten_vas_ids = 0

    def __len__(self) -> int:
        """VASIDs currently kept."""
        return len(self._rings)

    def count(self, vas_id: str | None, code: int | None, now: float) -> None:
        """Count a request of ``vas_id`` answered with status ``code`` at ``now``."""
        ring = self._rings.get(vas_id)
        if ring is None:
            if len(self._rings) >= self.max_vas_ids:
                idle = min(self._rings, key=lambda key: self._rings[key].last)
                del self._rings[idle]
                self.forgotten_vas_ids += 1
            ring = self._rings[vas_id] = _Ring(self.seconds)
        ring.add(math.floor(now), series_of(code))

    def window_opened(self, vas_id: str | None, now: float, until: float) -> None:
        """A 4030 window for ``vas_id`` (None: every VASID) opened or was extended at ``now``
        until ``until``."""
        horizon = now - self.seconds
        self._windows = [w for w in self._windows if w.end >= horizon]
        for window in self._windows:
            if window.vas_id == vas_id and window.end > now:  # still open: extended
                window.end = max(window.end, until)
                return
        if until <= now:
            return
        self._windows.append(_Window(vas_id, now, until))
        del self._windows[: -self.max_windows]

    def window_closed(self, vas_id: str | None, now: float, *, everything: bool = False) -> None:
        """The open 4030 window of ``vas_id`` (or every open window) was closed at ``now``."""
        for window in self._windows:
            if window.end > now and (everything or window.vas_id == vas_id):
                window.end = now

    def clear(self) -> None:
        """Forget every count and window."""
        self._rings.clear()
        self._windows.clear()
        self.forgotten_vas_ids = 0

    def snapshot(
        self, now: float, seconds: int | None = None, only: Collection[str | None] | None = None
    ) -> TrafficSnapshot:
        """The last ``seconds`` (at most the ring's span) up to ``now``: the VASIDs with a
        request or a window of their own in them (those in ``only`` when given)."""
        span = self.seconds if seconds is None else max(1, min(int(seconds), self.seconds))
        current = math.floor(now)
        first = current - span + 1
        shown: dict[str | None, tuple[list[int], ...]] = {}
        windows = [
            (w.vas_id, w.start - current, w.end - current)
            for w in self._windows
            if w.end > first and (only is None or w.vas_id is None or w.vas_id in only)
        ]
        for key, ring in self._rings.items():
            if ring.last >= first and (only is None or key in only):
                shown[key] = tuple(ring.read(first, current))
        for key, _start, _end in windows:
            if key is not None and key not in shown and (only is None or key in only):
                shown[key] = tuple([0] * span for _ in SERIES)
        return TrafficSnapshot(span, now - current, shown, windows, self.forgotten_vas_ids)
