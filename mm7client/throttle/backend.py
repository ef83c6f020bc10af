"""The throttle backend: where a VASID's pause, TPS pacing and 7103 slow-down state lives.

The client asks its backend before every send and tells it what the carrier said::

    await backend.acquire(vas_id)         # wait out a 4030 pause, then take a TPS slot
    backend.pause(vas_id, seconds)        # 4030: every sender of this VASID holds
    backend.slow_down(vas_id)             # 7103: lower this VASID's rate, recover gradually

The in-process :class:`~mm7client.throttle.local.LocalThrottle` is the default (nothing to
install); a backend shared by several processes (:mod:`mm7client.throttle.redis`: the send
schedule kept by a server-side script on the server's clock, the pause as a key with a time to
live) implements the same methods.
``pause`` and ``slow_down`` are async so a shared backend can publish them; ``stats`` are the
counters of this process whatever the backend shares. :meth:`ThrottleBackend.state_of` is a
read-only view of a VASID's pause and rate for displays (no I/O: a shared backend answers from
what it last heard).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mm7client.throttle.stats import VasStats

__all__ = ["ThrottleBackend", "ThrottleState"]


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """What a backend knows of one VASID now, for displays.

    Attributes:
        vas_id: the VASID.
        pause_left: seconds left of a 4030 pause (0: not paused).
        rate: the TPS sends are paced at now (``None``: unlimited).
        contract: the contracted TPS (``None``: none given).
        shared: True when the state is shared with other processes (Redis).
        held: why sends are held or paced otherwise than by the pause and rate (e.g. the
            shared store is unreachable), else ``None``.
    """

    vas_id: str
    pause_left: float = 0.0
    rate: float | None = None
    contract: float | None = None
    shared: bool = False
    held: str | None = None

    @property
    def paused(self) -> bool:
        """True while a 4030 pause runs."""
        return self.pause_left > 0

    @property
    def slowed(self) -> bool:
        """True while the rate is below the contract (or limited without one) after 7103."""
        if self.rate is None:
            return False
        return self.contract is None or self.rate < self.contract


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

    def state_of(self, vas_id: str) -> ThrottleState:
        """The pause and rate of ``vas_id`` as this process knows them (no I/O)."""
        ...

    async def aclose(self) -> None:
        """Release what the backend holds (connections); the local one holds nothing."""
        ...
