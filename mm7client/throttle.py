"""Client-side throttling: per-VASID pauses, an adaptive TPS limiter, backoff and a clock.

Carriers throttle per VASID: LG U+ answers 4030 ("System error": stop sending on that VASID,
resend after a minute) when its MMSC is overloaded and 7103 ("Traffic is over") when a VASID
exceeds its contracted TPS. This module holds the pure mechanics the client uses to honour
them; it knows nothing about HTTP.

* :class:`Clock` (monotonic time + sleep) with :class:`MonotonicClock` for real use and
  :class:`FakeClock` for tests (a 60-second pause takes no time).
* :class:`PauseGate`: every send for a paused VASID waits until the pause ends.
* :class:`RateLimiter`: a token bucket at the VASID's TPS that lowers its rate on 7103 and
  recovers it gradually (additive increase, multiplicative decrease).
* :class:`RetryPolicy`: retry budgets and exponential backoff with jitter.
* :class:`VasThrottle` / :class:`ThrottleRegistry`: one gate + limiter + counters per VASID.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Clock",
    "FakeClock",
    "MonotonicClock",
    "PauseGate",
    "RateLimiter",
    "RetryPolicy",
    "ThrottleRegistry",
    "VasStats",
    "VasThrottle",
]

logger = logging.getLogger(__name__)

# float slack: a token that is 1 - 1e-12 is a token
_EPSILON = 1e-9


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

    def now(self) -> float:
        """Seconds of :func:`time.monotonic`."""
        return time.monotonic()

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


class PauseGate:
    """A per-VASID pause: while it lasts, :meth:`wait` blocks every sender.

    Pauses never shorten: a second pause ending earlier than the current one changes nothing.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.paused_until = float("-inf")

    @property
    def paused(self) -> bool:
        """True while a pause is running."""
        return self._clock.now() < self.paused_until

    def remaining(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self.paused_until - self._clock.now())

    def pause(self, seconds: float) -> bool:
        """Pause for ``seconds`` from now; True when this extended the pause."""
        until = self._clock.now() + max(0.0, seconds)
        if until > self.paused_until:
            self.paused_until = until
            return True
        return False

    async def wait(self) -> float:
        """Wait until no pause is running; returns the seconds waited."""
        start = self._clock.now()
        while True:
            left = self.paused_until - self._clock.now()
            if left <= 0:
                return self._clock.now() - start
            await self._clock.sleep(left)


class RateLimiter:
    """A token bucket at ``tps`` sends per second that adapts to 7103 (AIMD).

    Sends are paced (a burst of ``burst`` tokens, 1 by default). ``tps=None`` means no
    contracted limit: nothing waits until the carrier says 7103; the
    limiter then starts at ``decrease_factor`` times the rate it observed over the last second
    and probes upwards again. :meth:`on_throttled` multiplies the rate by ``decrease_factor``
    (at most once per ``decrease_cooldown`` seconds, so a burst of 7103s for requests already in
    flight counts once); the rate then recovers additively by ``recovery_per_second`` TPS each
    second (default: a tenth of the contracted rate, or without a contract a tenth of the rate
    after the last decrease) up to the contracted rate.
    """

    def __init__(
        self,
        clock: Clock,
        tps: float | None = None,
        *,
        burst: float | None = None,
        decrease_factor: float = 0.5,
        min_tps: float = 0.5,
        recovery_per_second: float | None = None,
        decrease_cooldown: float = 0.25,
    ) -> None:
        if tps is not None and tps <= 0:
            raise ValueError(f"tps={tps!r}: must be positive or None")
        if not 0 < decrease_factor < 1:
            raise ValueError(f"decrease_factor={decrease_factor!r}: must be between 0 and 1")
        self._clock = clock
        self.contracted_tps = tps
        self.rate: float | None = tps
        self._burst = burst
        self.decrease_factor = decrease_factor
        self.min_tps = min_tps
        self._recovery = recovery_per_second
        self.decrease_cooldown = decrease_cooldown
        self._reference = tps
        self._default_step = max(0.5, (tps or 0.0) / 10)
        self._tokens = self._capacity()
        self._last = clock.now()
        self._last_decrease = float("-inf")
        self._recent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _capacity(self) -> float:
        if self._burst is not None:
            return self._burst
        return 1.0

    @property
    def limited(self) -> bool:
        """True when sends are being paced."""
        return self.rate is not None

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        if self.rate is None:
            return
        # additive increase towards the contracted (or pre-7103) rate
        ceiling = self.contracted_tps if self.contracted_tps is not None else self._reference
        if ceiling is not None and self.rate < ceiling:
            step = self._recovery if self._recovery is not None else self._default_step
            self.rate = min(ceiling, self.rate + step * elapsed)
            if self.contracted_tps is None and self.rate >= ceiling:
                logger.info("TPS limiter back to unlimited after recovering to %.1f TPS", ceiling)
                self.rate = None
                return
        self._tokens = min(self._capacity(), self._tokens + elapsed * self.rate)

    async def acquire(self) -> float:
        """Wait for a send slot; returns the seconds waited."""
        start = self._clock.now()
        if self.rate is None and not self._lock.locked():
            # unlimited: only remember the send for observed_tps()
            self._remember(start)
            return 0.0
        async with self._lock:
            while True:
                now = self._clock.now()
                self._refill(now)
                if self.rate is None or self._tokens >= 1.0 - _EPSILON:
                    if self.rate is not None:
                        self._tokens = max(0.0, self._tokens - 1.0)
                    break
                await self._clock.sleep(max(_EPSILON, (1.0 - self._tokens) / self.rate))
        now = self._clock.now()
        self._remember(now)
        return now - start

    def _remember(self, now: float) -> None:
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()

    def observed_tps(self) -> float:
        """Sends acquired over the last second."""
        now = self._clock.now()
        return float(sum(1 for t in self._recent if t >= now - 1.0))

    def on_throttled(self) -> bool:
        """The carrier said 7103: lower the rate (once per cooldown). True when lowered."""
        now = self._clock.now()
        if now - self._last_decrease < self.decrease_cooldown:
            return False
        self._refill(now)
        current = self.rate
        if current is None:
            observed = max(self.observed_tps(), self.min_tps * 2)
            self._reference = observed
            current = observed
        self.rate = max(self.min_tps, current * self.decrease_factor)
        if self.contracted_tps is None:
            self._default_step = max(0.5, self.rate / 10)
        self._tokens = min(self._tokens, 0.0)
        self._last_decrease = now
        self._last = now
        return True

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.2f}"
        return f"RateLimiter(rate={rate}, contracted={self.contracted_tps})"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries, per message.

    Attributes:
        max_attempts: attempts in all for ``retry`` results (timeouts, connection errors, 4006,
            3000...), the first included; 1 disables these retries.
        max_throttled_resends: resends after ``throttled`` results (4030 pauses, 7103); 0
            returns the throttled result at once.
        base_delay: first backoff delay in seconds; doubled (``multiplier``) per attempt.
        max_delay: cap of a backoff delay.
        multiplier: growth of the delay per attempt.
        jitter: fraction of the delay drawn at random (0 = none, 1 = "full jitter").
        pause_seconds: pause of a VASID after 4030; ``None`` uses the normalized result's pause
            (60 s for LGT 4030).
        throttle_retry_delay: a short wait before resending after 7103 (on top of the lowered
            TPS limiter).
        retry_ambiguous: resend when the connection dropped after the request was sent (the
            message may have been accepted: off by default, the result is flagged ambiguous).
    """

    max_attempts: int = 4
    max_throttled_resends: int = 20
    base_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    pause_seconds: float | None = None
    throttle_retry_delay: float = 0.0
    retry_ambiguous: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts!r}: must be at least 1")
        if self.max_throttled_resends < 0:
            raise ValueError(
                f"max_throttled_resends={self.max_throttled_resends!r}: must not be negative"
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter={self.jitter!r}: must be between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must not be negative")

    @classmethod
    def no_retries(cls) -> RetryPolicy:
        """Every first answer is final (no backoff, no throttled resends)."""
        return cls(max_attempts=1, max_throttled_resends=0)

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Delay before retry ``retry_number`` (1 for the first retry), with jitter."""
        exponent = max(0, retry_number - 1)
        delay = min(self.max_delay, self.base_delay * self.multiplier**exponent)
        if self.jitter:
            draw = (rng or random).random()
            delay = delay * (1 - self.jitter) + delay * self.jitter * draw
        return delay


@dataclass(slots=True)
class VasStats:
    """Counters of one VASID.

    Attributes:
        sent: HTTP requests sent (every attempt).
        paused: 4030 pauses started.
        throttled_7103: 7103 answers (each lowers the TPS limiter's rate at most once per
            cooldown).
        slowed_down: times the TPS limiter's rate was lowered.
        retries: resends after a ``retry`` result (backoff).
        throttled_resends: resends after a ``throttled`` result.
        results: final results by category.
        ambiguous: final results flagged ambiguous.
    """

    sent: int = 0
    paused: int = 0
    throttled_7103: int = 0
    slowed_down: int = 0
    retries: int = 0
    throttled_resends: int = 0
    ambiguous: int = 0
    results: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly counters."""
        return {
            "sent": self.sent,
            "paused": self.paused,
            "throttled_7103": self.throttled_7103,
            "slowed_down": self.slowed_down,
            "retries": self.retries,
            "throttled_resends": self.throttled_resends,
            "ambiguous": self.ambiguous,
            "results": dict(self.results),
        }


class VasThrottle:
    """Everything throttling knows about one VASID: pause gate, TPS limiter, counters."""

    def __init__(self, vas_id: str, clock: Clock, tps: float | None = None) -> None:
        self.vas_id = vas_id
        self.gate = PauseGate(clock)
        self.limiter = RateLimiter(clock, tps)
        self.stats = VasStats()

    async def before_send(self) -> None:
        """Wait for the pause (if any) and a TPS slot."""
        while True:
            await self.gate.wait()
            await self.limiter.acquire()
            # a 4030 may have arrived while we waited for a slot
            if not self.gate.paused:
                return

    def pause(self, seconds: float) -> None:
        """4030: pause this VASID for ``seconds``."""
        self.stats.paused += 1
        if self.gate.pause(seconds):
            logger.warning("VASID %s paused for %.3g s after 4030", self.vas_id, seconds)

    def slow_down(self) -> None:
        """7103: lower this VASID's TPS."""
        self.stats.throttled_7103 += 1
        if self.limiter.on_throttled():
            self.stats.slowed_down += 1
            logger.warning(
                "VASID %s over its TPS (7103): rate lowered to %.2f TPS",
                self.vas_id,
                self.limiter.rate or 0.0,
            )

    def __repr__(self) -> str:
        return f"VasThrottle({self.vas_id!r}, {self.limiter!r}, paused={self.gate.paused})"


class ThrottleRegistry:
    """One :class:`VasThrottle` per VASID, created on first use."""

    def __init__(self, clock: Clock, tps: float | Mapping[str, float] | None = None) -> None:
        self.clock = clock
        self._tps = tps
        self._by_vas: dict[str, VasThrottle] = {}

    def _tps_for(self, vas_id: str) -> float | None:
        if self._tps is None:
            return None
        if isinstance(self._tps, Mapping):
            return self._tps.get(vas_id)
        return float(self._tps)

    def get(self, vas_id: str) -> VasThrottle:
        """The throttle of ``vas_id`` (created on first use)."""
        throttle = self._by_vas.get(vas_id)
        if throttle is None:
            throttle = VasThrottle(vas_id, self.clock, self._tps_for(vas_id))
            self._by_vas[vas_id] = throttle
        return throttle

    def __contains__(self, vas_id: object) -> bool:
        return vas_id in self._by_vas

    def __iter__(self) -> Iterator[VasThrottle]:
        return iter(self._by_vas.values())

    def stats(self) -> dict[str, VasStats]:
        """Counters per VASID."""
        return {vas: t.stats for vas, t in self._by_vas.items()}
