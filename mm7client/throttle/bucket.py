"""A token bucket, sans-IO: arithmetic over a rate, a burst and the time the caller passes in.

Both sides of MM7 pace with it. The client's :class:`~mm7client.throttle.local.RateLimiter`
waits :meth:`TokenBucket.wait_time` before it :meth:`TokenBucket.take` s a send slot; a server
enforcing a TPS contract (the mock answering 7103) asks :meth:`TokenBucket.take` and refuses at
once when it says False. The bucket never reads a clock and never sleeps: ``now`` is any
monotonic scale the caller chooses (a :class:`~mm7client.throttle.Clock`, ``time.monotonic``,
or a Redis server's time in a shared backend), which keeps it unit-testable to the float.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]

# float slack: a token that is 1 - 1e-12 is a token
_EPSILON = 1e-9


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` banked; starts full at time ``now``.

    Args:
        rate: tokens added per second (> 0).
        burst: the most tokens banked (> 0; 1 paces sends evenly, ``rate`` allows one
            second's worth at once).
        now: the time of creation on the caller's scale.
        tokens: tokens at creation (default: full).
    """

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(
        self, rate: float, burst: float = 1.0, *, now: float = 0.0, tokens: float | None = None
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate={rate!r}: must be > 0")
        if burst <= 0:
            raise ValueError(f"burst={burst!r}: must be > 0")
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = self.burst if tokens is None else min(self.burst, float(tokens))
        self.updated = now

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last update (time never runs backwards here)."""
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.updated = now

    def take(self, now: float, n: float = 1.0) -> bool:
        """Spend ``n`` tokens if there are that many (True), else spend nothing (False)."""
        self.refill(now)
        if self.tokens >= n - _EPSILON:
            self.tokens = max(0.0, self.tokens - n)
            return True
        return False

    def wait_time(self, now: float, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens are banked (0 when they are now)."""
        self.refill(now)
        missing = n - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def set_rate(self, rate: float, now: float | None = None) -> None:
        """Change the rate; with ``now``, the tokens earned until then count at the old rate."""
        if rate <= 0:
            raise ValueError(f"rate={rate!r}: must be > 0")
        if now is not None:
            self.refill(now)
        self.rate = float(rate)

    def drain(self, now: float) -> None:
        """Drop every banked token (the next send waits a full interval)."""
        self.refill(now)
        self.tokens = min(self.tokens, 0.0)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g}, tokens={self.tokens:.3f})"
