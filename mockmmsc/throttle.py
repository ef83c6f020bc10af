"""Carrier-side throttling: per-VASID TPS contracts (token bucket) and 4030 overload windows.

Both take a clock (``time.monotonic`` by default) so unit tests can drive them by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["OverloadWindows", "TokenBucket", "TpsContracts"]

Clock = Callable[[], float]


@dataclass(slots=True)
class TokenBucket:
    """A token bucket: ``rate`` tokens per second, at most ``capacity`` banked.

    The capacity defaults to one second's worth (at least 1): a VASID contracted at 10 TPS can
    send 10 at once, then one every 100 ms.
    """

    rate: float
    capacity: float = 0.0
    tokens: float = -1.0
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate={self.rate!r}: must be > 0")
        if self.capacity <= 0:
            self.capacity = max(1.0, self.rate)
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, now: float) -> bool:
        """Spend one token if there is one (True), else refuse (False) without spending."""
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class TpsContracts:
    """Contracted TPS per VASID, enforced with one token bucket per VASID."""

    def __init__(self, default_tps: float | None = None, clock: Clock = time.monotonic) -> None:
        self.default_tps = default_tps
        self._tps: dict[str, float | None] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._clock = clock
        self.refused: dict[str, int] = {}

    def set(self, vas_id: str, tps: float | None) -> None:
        """Contract ``tps`` for ``vas_id`` (``None``: unlimited, not the default)."""
        if tps is not None and tps <= 0:
            raise ValueError(f"tps={tps!r} for VASID {vas_id!r}: must be > 0 or None")
        self._tps[vas_id] = tps
        self._buckets.pop(vas_id, None)

    def clear(self, vas_id: str) -> None:
        """Forget the VASID's own contract (the default applies again)."""
        self._tps.pop(vas_id, None)
        self._buckets.pop(vas_id, None)

    def tps_of(self, vas_id: str) -> float | None:
        """The TPS that applies to ``vas_id``."""
        if vas_id in self._tps:
            return self._tps[vas_id]
        return self.default_tps

    def contracts(self) -> dict[str, float | None]:
        """The VASIDs with their own contract."""
        return dict(self._tps)

    def allow(self, vas_id: str | None) -> bool:
        """True when a request of ``vas_id`` is within its contract (and counts it)."""
        key = vas_id or ""
        tps = self.tps_of(key)
        if tps is None:
            return True
        bucket = self._buckets.get(key)
        now = self._clock()
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(tps, updated=now)
        if bucket.take(now):
            return True
        self.refused[key] = self.refused.get(key, 0) + 1
        return False


@dataclass(slots=True)
class _Window:
    until: float
    answered: set[str] = field(default_factory=set)


class OverloadWindows:
    """4030 windows per VASID (or the whole server, key ``None``).

    Every SubmitReq of a VASID inside a window gets 4030; those that arrive after the first 4030
    answer of that window are counted (:meth:`requests_during_overload`): a client that honours
    the pause sends none.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str | None, _Window] = {}
        self._during: dict[str, int] = {}

    def start(
        self, seconds: float, vas_id: str | None = None, *, answered: str | None = None
    ) -> None:
        """Open (or extend) a window of ``seconds`` (already scaled) for ``vas_id``.

        ``answered``: a VASID that was just answered 4030 by whatever opened the window.
        """
        if seconds < 0:
            raise ValueError(f"seconds={seconds!r}: must be >= 0")
        until = self._clock() + seconds
        window = self._windows.get(vas_id)
        if window is not None and window.until > self._clock():
            window.until = max(window.until, until)
        else:
            window = self._windows[vas_id] = _Window(until)
        if answered is not None:
            window.answered.add(answered)

    def clear(self, vas_id: str | None = None, *, everything: bool = False) -> None:
        """Close the window of ``vas_id`` (or all of them)."""
        if everything:
            self._windows.clear()
        else:
            self._windows.pop(vas_id, None)

    def active(self) -> dict[str | None, float]:
        """Open windows: key -> seconds left."""
        now = self._clock()
        return {k: w.until - now for k, w in self._windows.items() if w.until > now}

    def check(self, vas_id: str | None) -> bool:
        """True when ``vas_id`` is overloaded now (the caller answers 4030); records the pause."""
        if not self._windows:
            return False
        now = self._clock()
        key = vas_id or ""
        hit = False
        for name in (vas_id, None) if vas_id is not None else (None,):
            window = self._windows.get(name)
            if window is None:
                continue
            if window.until <= now:
                del self._windows[name]
                continue
            if not hit:
                if key in window.answered:
                    self._during[key] = self._during.get(key, 0) + 1
                else:
                    window.answered.add(key)
                hit = True
        return hit

    def requests_during_overload(self, vas_id: str | None) -> int:
        """SubmitReqs of ``vas_id`` that arrived in a window after its first 4030 answer."""
        return self._during.get(vas_id or "", 0)

    def counts(self) -> dict[str, int]:
        """Per VASID: SubmitReqs that arrived during a pause (see above)."""
        return dict(self._during)

    def reset_counts(self) -> None:
        """Forget the recorded counts."""
        self._during.clear()
