"""Carrier-side throttling state: per-VASID TPS contracts and 4030 overload windows.

Both are state with queries that change nothing and explicit changes: :mod:`mockmmsc.decide`
asks (:meth:`TpsContracts.within`, :meth:`OverloadWindows.hit`) with the time it decides at,
and the endpoint applies the decision's effects (:meth:`TpsContracts.spend`,
:meth:`OverloadWindows.note`). A contract is the client's sans-IO
:class:`~mm7client.throttle.bucket.TokenBucket` (the one both sides pace with) and time is the
client's :class:`~mm7client.throttle.clock.Clock` (read only by the admin calls that take no
explicit time), so unit tests drive both with a :class:`~mm7client.throttle.clock.FakeClock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mm7client.throttle.bucket import TokenBucket
from mm7client.throttle.clock import Clock, MonotonicClock

__all__ = ["OverloadHit", "OverloadWindows", "TpsContracts"]


class TpsContracts:
    """Contracted TPS per VASID, enforced with one token bucket per VASID.

    A bucket holds one second's worth of tokens (at least 1): a VASID contracted at 10 TPS can
    send 10 at once, then one every 100 ms.
    """

    def __init__(self, default_tps: float | None = None) -> None:
        self.default_tps = default_tps
        self._tps: dict[str, float | None] = {}
        self._buckets: dict[str, TokenBucket] = {}
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

    def limited(self, vas_id: str) -> bool:
        """True when a contract applies to ``vas_id`` (its requests spend tokens)."""
        return self.tps_of(vas_id) is not None

    def within(self, vas_id: str, now: float) -> bool:
        """True when a request of ``vas_id`` at ``now`` is within its contract (nothing spent)."""
        tps = self.tps_of(vas_id)
        if tps is None:
            return True
        bucket = self._buckets.get(vas_id)
        # wait_time brings the bucket's count up to ``now`` and spends nothing
        return bucket is None or bucket.wait_time(now) == 0.0

    def spend(self, vas_id: str, now: float) -> None:
        """Spend the token of a request of ``vas_id`` answered at ``now``."""
        tps = self.tps_of(vas_id)
        if tps is None:
            return
        bucket = self._buckets.get(vas_id)
        if bucket is None:
            bucket = self._buckets[vas_id] = TokenBucket(tps, max(1.0, tps), now=now)
        bucket.take(now)

    def refuse(self, vas_id: str) -> None:
        """Count a request of ``vas_id`` refused with 7103."""
        self.refused[vas_id] = self.refused.get(vas_id, 0) + 1


@dataclass(frozen=True, slots=True)
class OverloadHit:
    """A SubmitReq inside an open 4030 window: the window's key (a VASID, or ``None`` for the
    whole server) and whether this VASID was already answered 4030 in it (then the request
    came during the pause)."""

    window: str | None
    during: bool


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

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or MonotonicClock()
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
        now = self._clock.now()
        for name in [k for k, w in self._windows.items() if w.until <= now]:
            del self._windows[name]  # closed ones: the dict stays as small as what is open
        until = now + seconds
        window = self._windows.get(vas_id)
        if window is not None and window.until > now:
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
        now = self._clock.now()
        return {k: w.until - now for k, w in self._windows.items() if w.until > now}

    def hit(self, vas_id: str | None, now: float) -> OverloadHit | None:
        """The open window a SubmitReq of ``vas_id`` falls in at ``now`` (its own first, then
        the server's), or None (nothing changes)."""
        if not self._windows:
            return None
        key = vas_id or ""
        for name in (vas_id, None) if vas_id is not None else (None,):
            window = self._windows.get(name)
            if window is not None and window.until > now:
                return OverloadHit(name, key in window.answered)
        return None

    def note(self, vas_id: str | None, hit: OverloadHit) -> None:
        """Record the 4030 answered for ``hit``: the first marks the VASID as told, later ones
        count as requests during the pause."""
        key = vas_id or ""
        if hit.during:
            self._during[key] = self._during.get(key, 0) + 1
            return
        window = self._windows.get(hit.window)
        if window is not None:
            window.answered.add(key)

    def requests_during_overload(self, vas_id: str | None) -> int:
        """SubmitReqs of ``vas_id`` that arrived in a window after its first 4030 answer."""
        return self._during.get(vas_id or "", 0)

    def counts(self) -> dict[str, int]:
        """Per VASID: SubmitReqs that arrived during a pause (see above)."""
        return dict(self._during)

    def reset_counts(self) -> None:
        """Forget the recorded counts."""
        self._during.clear()
