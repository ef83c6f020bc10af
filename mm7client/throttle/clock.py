"""The one clock type of the toolkit: monotonic time and sleeping, real or fake.

Everything that waits or measures time for throttling (the client's pauses and TPS limiter,
the backoff between retries, and whatever server-side code takes an injectable clock) sees time
only through :class:`Clock`, so tests swap in :class:`FakeClock` and a 60-second pause costs
nothing.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "MonotonicClock"]


class Clock(Protocol):
    """Monotonic time and sleeping; the only way throttling code sees time."""

    def now(self) -> float:
        """Seconds on a monotonic scale (only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (no wait for zero or negative values)."""
        ...


class MonotonicClock:
    """The real clock: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    #: Seconds of :func:`time.monotonic` (the C function itself: reading the clock costs no
    #: Python call, on the client's and the mock's hot paths).
    now = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        """:func:`asyncio.sleep` (yields to the loop even for zero)."""
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "MonotonicClock()"


class FakeClock:
    """A clock for tests: time moves only when told to, so long pauses cost nothing.

    With ``auto_advance=True`` (the default) a sleep moves time forward to its own deadline at
    once (never backwards), which suits code that waits for absolute deadlines such as pause
    ends. With ``auto_advance=False`` sleepers wait until :meth:`advance` passes their deadline.
    Every requested sleep is recorded in :attr:`sleeps`.
    """

    def __init__(self, start: float = 0.0, *, auto_advance: bool = True) -> None:
        self._now = float(start)
        self.auto_advance = auto_advance
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        """The fake time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Record the sleep; jump to its deadline (auto mode) or wait for :meth:`advance`."""
        seconds = max(0.0, float(seconds))
        self.sleeps.append(seconds)
        deadline = self._now + seconds
        if self.auto_advance or seconds == 0:
            self._now = max(self._now, deadline)
            self._wake()
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper whose deadline passed."""
        if seconds < 0:
            raise ValueError(f"seconds={seconds!r}: time cannot go backwards")
        self._now += seconds
        self._wake()

    def _wake(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    @property
    def total_slept(self) -> float:
        """Sum of every requested sleep."""
        return sum(self.sleeps)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now:.3f}, sleeps={len(self.sleeps)})"
