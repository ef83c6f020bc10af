"""The throttle backend: where a VASID's pause, TPS pacing and 7103 slow-down state lives.

The client asks its backend before every send and tells it what the carrier said::

    await backend.acquire(vas_id)         # wait out a 4030 pause, then take a TPS slot
    backend.pause(vas_id, seconds)        # 4030: every sender of this VASID holds
    backend.slow_down(vas_id)             # 7103: lower this VASID's rate, recover gradually

The in-process :class:`~mm7client.throttle.local.LocalThrottle` is the default (nothing to
install); a backend shared by several processes (Redis: the token bucket kept by a server-side
script on the server's clock, the pause as a key with a deadline) implements the same methods.
``pause`` and ``slow_down`` are async so a shared backend can publish them; ``stats`` are the
counters of this process whatever the backend shares.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mm7client.throttle.stats import VasStats

__all__ = ["ThrottleBackend"]


@runtime_checkable
class ThrottleBackend(Protocol):
    """Per-VASID throttle state: 4030 pauses, the TPS contract and the 7103 slow-down."""

    async def acquire(self, vas_id: str) -> float:
        """Wait until ``vas_id`` may send (no pause running, a TPS slot taken).

        Returns the seconds waited.
        """
        ...

    async def pause(self, vas_id: str, seconds: float) -> None:
        """4030: hold every send of ``vas_id`` for ``seconds`` from now (never shortened)."""
        ...

    async def slow_down(self, vas_id: str) -> None:
        """7103: lower the TPS of ``vas_id``; it recovers gradually towards the contract."""
        ...

    def stats_of(self, vas_id: str) -> VasStats:
        """The live counters of ``vas_id`` in this process (created on first use)."""
        ...

    def stats(self) -> dict[str, VasStats]:
        """The counters of every VASID seen by this process."""
        ...

    async def aclose(self) -> None:
        """Release what the backend holds (connections); the local one holds nothing."""
        ...
