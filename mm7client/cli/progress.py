"""What ``mm7 send`` shows while it sends: counts, rate, ETA and the state of each VASID.

* :class:`BulkProgress`: the counts of a bulk run (pure; the caller passes the time).
* :func:`vas_views` / :class:`PauseWatch`: read each VASID's state from the client's public
  counters (``client.stats``) and its pause and rate as the throttle backend knows them
  (``client.throttle_state``: the process's own, or the fleet's shared state with Redis); a
  new 4030 pause becomes one notice line.
* :class:`PlainDisplay` (a line every few seconds on stderr, for logs and pipes) and
  :class:`LiveDisplay` (a live panel drawn with ``rich`` on a terminal), both fed by
  :func:`run_display`.

``rich`` is imported only by :class:`LiveDisplay`; without it a terminal gets the plain lines.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from mm7client.client import MM7Client

__all__ = [
    "CATEGORIES",
    "BulkProgress",
    "Display",
    "LiveDisplay",
    "PauseWatch",
    "PlainDisplay",
    "VasView",
    "rich_available",
    "run_display",
    "vas_views",
]

#: Result categories in display order (``invalid`` rows are also counted as ``failed``).
CATEGORIES = ("success", "failed", "retry", "throttled", "unknown")


class BulkProgress:
    """Counts of a bulk run: rows done (this run and earlier ones), per category, rate, ETA.

    Args:
        total: rows in the input (``None`` when unknown, e.g. read from stdin).
        now: the start time (seconds, monotonic).
        window: seconds over which the rate is measured.
    """

    def __init__(self, total: int | None, now: float, *, window: float = 10.0) -> None:
        self.total = total
        self.started = now
        self.window = window
        self.counts: Counter[str] = Counter()
        self.done = 0
        self.earlier = 0
        self.in_flight = 0
        self._finished: deque[float] = deque()

    def add_earlier(self, category: str, *, invalid: bool = False) -> None:
        """A row that an earlier run already finished (not sent again)."""
        self.earlier += 1
        self._count(category, invalid)

    def sending(self) -> None:
        """A row was handed to the client."""
        self.in_flight += 1

    def finished(
        self, category: str, now: float, *, invalid: bool = False, sent: bool = True
    ) -> None:
        """A row of this run has its result (``sent=False`` for a row that never was)."""
        if sent:
            self.in_flight -= 1
        self._count(category, invalid)
        self._finished.append(now)

    def _count(self, category: str, invalid: bool) -> None:
        self.done += 1
        self.counts[category] += 1
        if invalid:
            self.counts["invalid"] += 1

    @property
    def all_succeeded(self) -> bool:
        """True when every row so far succeeded."""
        return self.counts["success"] == self.done

    def rate(self, now: float) -> float:
        """Rows finished per second over the last ``window`` seconds."""
        while self._finished and self._finished[0] < now - self.window:
            self._finished.popleft()
        span = min(self.window, now - self.started)
        return len(self._finished) / span if span > 0 else 0.0

    def eta(self, now: float) -> float | None:
        """Seconds until every row is done at the current rate (``None``: unknown)."""
        rate = self.rate(now)
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.done) / rate

    def counts_text(self) -> str:
        """``success 10 · failed 2 (invalid 1) · retry 0 · ...``."""
        parts = []
        for category in CATEGORIES:
            text = f"{category} {self.counts[category]}"
            if category == "failed" and self.counts["invalid"]:
                text += f" (invalid {self.counts['invalid']})"
            parts.append(text)
        return " · ".join(parts)

    def headline(self, now: float) -> str:
        """``420/1000 rows (42%) · 49.8/s · ETA 0:12 · 16 in flight``."""
        if self.total is not None:
            share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            text = f"{self.done}/{self.total} rows{share}"
        else:
            text = f"{self.done} rows"
        if self.earlier:
            text += f" ({self.earlier} from an earlier run)"
        text += f" · {self.rate(now):.1f}/s"
        eta = self.eta(now)
        if eta is not None:
            text += f" · ETA {_duration(eta)}"
        return text + f" · {self.in_flight} in flight"


def _seconds(value: float) -> str:
    """``42 s`` or ``0.6 s``."""
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class VasView:
    """What the display shows of one VASID.

    Attributes:
        pause_left: seconds left of a 4030 pause (0: not paused).
        rate / contract: the current rate and the contracted TPS (``None``: unlimited).
        shared: the pause and rate are a fleet's (Redis), not this process's alone.
        held: why sends are held otherwise (the shared store unreachable), else ``None``.
    """

    vas_id: str
    sent: int
    pauses: int
    throttled_7103: int
    slowed_down: int
    resends: int
    pause_left: float
    rate: float | None
    contract: float | None
    shared: bool = False
    held: str | None = None

    def describe(self, max_resends: int) -> str:
        """``SVC paused 42 s after 4030 (pause 2, 9 resends so far; up to 20 per message)``."""
        name = self.vas_id or "(no VASID)"
        if self.held:
            return f"{name} {self.held}"
        if self.pause_left:
            return (
                f"{name} paused {_seconds(self.pause_left)} after 4030{self._fleet} "
                f"(pause {self.pauses}, "
                f"{self.resends} resends so far; up to {max_resends} per message)"
            )
        if self.rate is not None and self.contract is not None and self.rate < self.contract:
            return (
                f"{name} slowed to {self.rate:.1f} TPS after 7103{self._fleet} "
                f"x{self.throttled_7103} (contract {self.contract:g})"
            )
        if self.rate is not None and self.contract is None:
            return f"{name} slowed to {self.rate:.1f} TPS after 7103 x{self.throttled_7103}"
        text = f"{name} sending"
        if self.contract is not None:
            text += f" at up to {self.contract:g} TPS{self._fleet}"
        text += f" ({self.sent} requests"
        if self.pauses or self.throttled_7103:
            text += f"; 4030 x{self.pauses}, 7103 x{self.throttled_7103}"
        return text + ")"

    @property
    def _fleet(self) -> str:
        return " (fleet-wide)" if self.shared else ""


def vas_views(client: MM7Client) -> list[VasView]:
    """The state of every VASID the client has used: its counters and its throttle state."""
    views = []
    for vas_id, stats in sorted(client.stats.items()):
        state = client.throttle_state(vas_id)
        views.append(
            VasView(
                vas_id=vas_id,
                sent=stats.sent,
                pauses=stats.paused,
                throttled_7103=stats.throttled_7103,
                slowed_down=stats.slowed_down,
                resends=stats.throttled_resends,
                pause_left=state.pause_left,
                rate=state.rate,
                contract=state.contract,
                shared=state.shared,
                held=state.held,
            )
        )
    return views


class PauseWatch:
    """Turns each new 4030 pause or 7103 slow-down of a VASID into one notice line."""

    def __init__(self, max_resends: int) -> None:
        self.max_resends = max_resends
        self._seen: dict[str, tuple[int, int]] = {}

    def notices(self, views: list[VasView]) -> list[str]:
        """Lines for the pauses and slow-downs that started since the last call."""
        lines = []
        for view in views:
            pauses, slowed = self._seen.get(view.vas_id, (0, 0))
            name = view.vas_id or "(none)"
            if view.pauses > pauses:
                left = f" {_seconds(view.pause_left)}" if view.pause_left else ""
                lines.append(
                    f"VASID {name} answered 4030 (MMSC overloaded): sending paused{left}, then "
                    f"the refused message is resent (pause {view.pauses}; up to "
                    f"{self.max_resends} resends per message)"
                )
            if view.slowed_down > slowed:
                rate = f" to {view.rate:.1f} TPS" if view.rate is not None else ""
                lines.append(
                    f"VASID {name} answered 7103 (over its contracted TPS): rate lowered{rate}, "
                    "the refused message is resent"
                )
            self._seen[view.vas_id] = (view.pauses, view.slowed_down)
        return lines


class Display(Protocol):
    """Where progress goes."""

    def update(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Show the current state (called a few times a second)."""

    def note(self, text: str) -> None:
        """Show one line that stays (a bad row, a pause, stopping)."""

    def close(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Show the final state and stop."""


class PlainDisplay:
    """A status line on ``stream`` every ``interval`` seconds; notes at once."""

    def __init__(
        self, max_resends: int, *, interval: float = 5.0, stream: TextIO | None = None
    ) -> None:
        self.max_resends = max_resends
        self.interval = interval
        self.stream = stream or sys.stderr
        self._next: float | None = None

    def _line(self, progress: BulkProgress, views: list[VasView], now: float) -> str:
        text = f"mm7 send: {progress.headline(now)} · {progress.counts_text()}"
        busy = [v.describe(self.max_resends) for v in views if v.pause_left or v.rate or v.held]
        if busy:
            text += " · " + "; ".join(busy)
        return text

    def update(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Write a line when ``interval`` has passed since the last."""
        if self._next is None:
            self._next = now + self.interval
        if now >= self._next:
            self._next = now + self.interval
            self.note(self._line(progress, views, now)[len("mm7 send: ") :])

    def note(self, text: str) -> None:
        """Write ``mm7 send: text``."""
        self.stream.write(f"mm7 send: {text}\n")
        self.stream.flush()

    def close(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Nothing to tear down (the summary follows)."""


def rich_available() -> bool:
    """True when ``rich`` can be imported (the ``cli`` extra)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


class LiveDisplay:
    """A live panel on the terminal (stderr), drawn with ``rich``."""

    def __init__(self, max_resends: int) -> None:
        from rich.console import Console
        from rich.live import Live

        self.max_resends = max_resends
        self.console = Console(stderr=True)
        # stdout stays the caller's: result lines may be going there (mm7 send --csv > out.csv)
        self._live = Live(
            console=self.console, auto_refresh=False, transient=False, redirect_stdout=False
        )
        self._live.start()

    def _panel(self, progress: BulkProgress, views: list[VasView], now: float) -> Any:
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        items: list[Any] = []
        top = Table.grid(padding=(0, 1))
        if progress.total:
            bar = ProgressBar(total=progress.total, completed=progress.done, width=30)
            top.add_row(bar, Text(progress.headline(now)))
        else:
            top.add_row(Text(progress.headline(now)))
        items.append(top)
        counts = Table.grid(padding=(0, 2))
        styles = {"success": "green", "failed": "red", "retry": "yellow", "throttled": "magenta"}
        counts.add_row(
            *[Text(f"{c} {progress.counts[c]}", style=styles.get(c, "cyan")) for c in CATEGORIES],
            Text(f"invalid {progress.counts['invalid']}", style="red dim"),
        )
        items.append(counts)
        for view in views:
            style = "bold yellow" if view.pause_left else None
            items.append(Text("  " + view.describe(self.max_resends), style=style or ""))
        return Group(*items)

    def update(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Redraw the panel."""
        self._live.update(self._panel(progress, views, now), refresh=True)

    def note(self, text: str) -> None:
        """Print a line above the panel."""
        self.console.print(f"mm7 send: {text}", markup=False, highlight=False)

    def close(self, progress: BulkProgress, views: list[VasView], now: float) -> None:
        """Draw the final state and leave it on the screen."""
        self.update(progress, views, now)
        self._live.stop()


async def run_display(
    display: Display,
    progress: BulkProgress,
    client: MM7Client,
    *,
    every: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Update ``display`` every ``every`` seconds (and note new 4030 pauses) until cancelled."""
    watch = PauseWatch(client.retry.max_throttled_resends)
    while True:
        views = vas_views(client)
        for line in watch.notices(views):
            display.note(line)
        display.update(progress, views, clock())
        await asyncio.sleep(every)
