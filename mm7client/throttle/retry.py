"""Retry budgets and exponential backoff with jitter (pure: the caller draws and waits)."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


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
