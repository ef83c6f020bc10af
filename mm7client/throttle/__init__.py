"""Client-side throttling: the clock, the token bucket, retry budgets and throttle backends.

Carriers throttle per VASID: LG U+ answers 4030 ("System error": stop sending on that VASID,
resend after a minute) when its MMSC is overloaded and 7103 ("Traffic is over") when a VASID
exceeds its contracted TPS. This package holds the mechanics the client uses to honour them; it
knows nothing about HTTP.

* :mod:`~mm7client.throttle.clock`: :class:`Clock` (monotonic time + sleep) with
  :class:`MonotonicClock` for real use and :class:`FakeClock` for tests.
* :mod:`~mm7client.throttle.bucket`: :class:`TokenBucket`, sans-IO (the caller passes ``now``).
* :mod:`~mm7client.throttle.retry`: :class:`RetryPolicy` (retry budgets, backoff with jitter).
* :mod:`~mm7client.throttle.backend`: :class:`ThrottleBackend`, the per-VASID state a client
  asks before every send (pause, TPS slot) and tells about 4030 / 7103.
  :class:`ThrottleState` is the read-only view of a VASID a display shows.
* :mod:`~mm7client.throttle.local`: :class:`LocalThrottle`, the in-process default backend
  (:class:`PauseGate`, :class:`RateLimiter`, :class:`VasThrottle` per VASID).
* :mod:`~mm7client.throttle.redis`: ``RedisThrottle``, the backend a fleet of processes shares
  through Redis (the ``[redis]`` extra; imported from its module, so this package loads no
  Redis client).
* :mod:`~mm7client.throttle.stats`: :class:`VasStats`, a process's counters per VASID.
"""

from __future__ import annotations

from mm7client.throttle.backend import ThrottleBackend, ThrottleState
from mm7client.throttle.bucket import TokenBucket
from mm7client.throttle.clock import Clock, FakeClock, MonotonicClock
from mm7client.throttle.local import (
    LocalThrottle,
    PauseGate,
    RateLimiter,
    ThrottleRegistry,
    VasThrottle,
)
from mm7client.throttle.retry import RetryPolicy
from mm7client.throttle.stats import VasStats

__all__ = [
    "Clock",
    "FakeClock",
    "LocalThrottle",
    "MonotonicClock",
    "PauseGate",
    "RateLimiter",
    "RetryPolicy",
    "ThrottleBackend",
    "ThrottleRegistry",
    "ThrottleState",
    "TokenBucket",
    "VasStats",
    "VasThrottle",
]
