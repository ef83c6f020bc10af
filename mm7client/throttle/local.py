"""The in-process throttle backend (the default): per-VASID pause gates and adaptive TPS limiters.

Carriers throttle per VASID: LG U+ answers 4030 ("System error": stop sending on that VASID,
resend after a minute) when its MMSC is overloaded and 7103 ("Traffic is over") when a VASID
exceeds its contracted TPS. Within one process:

* :class:`PauseGate`: every send for a paused VASID waits until the pause ends.
* :class:`RateLimiter`: a :class:`~mm7client.throttle.bucket.TokenBucket` at the VASID's TPS
  that lowers its rate on 7103 and recovers it gradually (additive increase, multiplicative
  decrease), waiting on a :class:`~mm7client.throttle.clock.Clock`.
* :class:`VasThrottle`: one gate + limiter + counters per VASID.
* :class:`LocalThrottle` (also ``ThrottleRegistry``): the
  :class:`~mm7client.throttle.backend.ThrottleBackend` holding one :class:`VasThrottle` per VASID.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator, Mapping

from mm7client.throttle.backend import ThrottleState
from mm7client.throttle.bucket import TokenBucket
from mm7client.throttle.clock import Clock
from mm7client.throttle.stats import VasStats

__all__ = ["LocalThrottle", "PauseGate", "RateLimiter", "ThrottleRegistry", "VasThrottle"]

logger = logging.getLogger("mm7client.throttle")


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
        self._last = clock.now()
        self._bucket: TokenBucket | None = (
            TokenBucket(tps, self._capacity(), now=self._last) if tps is not None else None
        )
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

    def _bucket_at(self, rate: float) -> TokenBucket:
        if self._bucket is None:
            self._bucket = TokenBucket(rate, self._capacity(), now=self._last, tokens=0.0)
        else:
            self._bucket.set_rate(rate)
        return self._bucket

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
        # the tokens earned since the last refill count at the (recovered) rate
        bucket = self._bucket_at(self.rate)
        bucket.refill(now)

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
                bucket = self._bucket
                if self.rate is None or bucket is None or bucket.take(now):
                    break
                await self._clock.sleep(max(1e-9, bucket.wait_time(now)))
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
        self._bucket_at(self.rate).drain(now)
        self._last_decrease = now
        self._last = now
        return True

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.2f}"
        return f"RateLimiter(rate={rate}, contracted={self.contracted_tps})"


class VasThrottle:
    """Everything throttling knows about one VASID: pause gate, TPS limiter, counters."""

    def __init__(self, vas_id: str, clock: Clock, tps: float | None = None) -> None:
        self.vas_id = vas_id
        self.clock = clock
        self.gate = PauseGate(clock)
        self.limiter = RateLimiter(clock, tps)
        self.stats = VasStats()

    async def before_send(self) -> float:
        """Wait for the pause (if any) and a TPS slot; returns the seconds waited."""
        gate, limiter = self.gate, self.limiter
        if limiter.rate is None and not gate.paused:
            # the common case (no contract, no pause): nothing to wait for
            return await limiter.acquire()
        start = self.clock.now()
        while True:
            await gate.wait()
            await limiter.acquire()
            # a 4030 may have arrived while we waited for a slot
            if not gate.paused:
                return self.clock.now() - start

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


class LocalThrottle:
    """The in-process :class:`~mm7client.throttle.backend.ThrottleBackend` (the default).

    One :class:`VasThrottle` per VASID, created on first use, shared by every send of this
    process (and only of this process).

    Args:
        clock: the clock every wait uses.
        tps: contracted TPS, one value for every VASID or a ``{vas_id: tps}`` mapping
            (``None``: unlimited until the MMSC answers 7103).
    """

    def __init__(self, clock: Clock, tps: float | Mapping[str, float] | None = None) -> None:
        self.clock = clock
        self._tps = tps
        self._by_vas: dict[str, VasThrottle] = {}

    def __repr__(self) -> str:
        return f"LocalThrottle({len(self._by_vas)} VASIDs, tps={self._tps!r})"

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

    async def acquire(self, vas_id: str) -> float:
        """Wait for the pause of ``vas_id`` (if any) and a TPS slot; returns the seconds waited."""
        throttle = self._by_vas.get(vas_id)
        if throttle is None:
            throttle = self.get(vas_id)
        return await throttle.before_send()

    async def pause(self, vas_id: str, seconds: float) -> None:
        """4030: pause ``vas_id`` for ``seconds``."""
        self.get(vas_id).pause(seconds)

    async def slow_down(self, vas_id: str) -> None:
        """7103: lower the TPS of ``vas_id``."""
        self.get(vas_id).slow_down()

    def stats_of(self, vas_id: str) -> VasStats:
        """The counters of ``vas_id`` (created on first use)."""
        return self.get(vas_id).stats

    def stats(self) -> dict[str, VasStats]:
        """Counters per VASID."""
        return {vas: t.stats for vas, t in self._by_vas.items()}

    def state_of(self, vas_id: str) -> ThrottleState:
        """The pause and TPS limiter of ``vas_id`` (created on first use)."""
        throttle = self.get(vas_id)
        return ThrottleState(
            vas_id=vas_id,
            pause_left=throttle.gate.remaining(),
            rate=throttle.limiter.rate,
            contract=throttle.limiter.contracted_tps,
        )

    async def aclose(self) -> None:
        """Nothing to release."""

    def __contains__(self, vas_id: object) -> bool:
        return vas_id in self._by_vas

    def __iter__(self) -> Iterator[VasThrottle]:
        return iter(self._by_vas.values())


#: The name this backend had before there were others.
ThrottleRegistry = LocalThrottle
