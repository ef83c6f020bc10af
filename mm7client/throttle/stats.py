"""Per-VASID counters of one sending process (``MM7Client.stats``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["VasStats"]


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
