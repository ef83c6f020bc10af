"""Fault injection: how the mock misbehaves like a real carrier on a bad day.

A :class:`Fault` is given either in a rule (``Rule(fault=...)``: it acts on the requests the
rule matches, for the rule's ``times`` / ``probability``) or globally (``MockSettings.faults``,
``POST /api/faults``, ``mmsc.endpoint.faults.add(...)``: it acts on every MM7 request of its
``operation`` / ``vas_id``). Either way a fault has its own ``probability`` (0..1) and ``times``
(the first N requests it applies to; ``None`` = all of them).

Answer faults (what happens to the HTTP answer):

* ``delay`` - wait ``delay`` seconds (uniform in ``delay..delay_max`` when ``delay_max`` is
  set; scaled by the time scale) before answering normally. ``delay`` also delays any other kind.
* ``no_answer`` - handle the request, then answer nothing: hold the connection until the client
  gives up (``hold`` real seconds, capped by ``MockSettings.fault_max_hold``; the mock's shutdown
  ends every hold at once), then drop it.
* ``reset_before_body`` - drop the connection before reading the body (nothing is handled or
  stored). Global only: a rule cannot match a request it has not read.
* ``reset_after_body`` - handle the request (stored, MessageID given, delivery report
  scheduled), then drop the connection without an answer: a truly ambiguous outcome.
* ``http_error`` - refuse with HTTP ``http_status`` (500, 502 or 503; default 503) and an HTML
  error page, as a load balancer in front of the MMSC would.
* ``soap_fault`` - refuse with a SOAP Fault (RSErrorRsp) of MM7 status ``status`` (default
  3000) and HTTP ``http_status`` (default 500).
* ``truncated`` - the normal answer cut in half (Content-Length honest: the XML is unfinished).
* ``malformed`` - the normal answer with every end tag turned into a start tag (not XML).
* ``wrong_transaction_id`` - a valid answer carrying another TransactionID.
* ``slow_body`` - the normal answer dribbled ``chunk_size`` bytes every ``chunk_interval``
  seconds (scaled).

Except ``reset_before_body``, ``http_error`` and ``soap_fault``, the request is handled as
usual (accepted, stored, reported): only the answer is damaged - which is what makes these
faults dangerous for a client that resends blindly.

Delivery-report faults (what happens to the reports of an accepted SubmitReq):

* ``duplicate_report`` - every report is sent twice (a second record, id ``...-dup``).
* ``out_of_order_reports`` - the reports are held back ``delay`` seconds (default 1, scaled) so
  that the reports of later messages overtake them; the reports of several recipients go out in
  reverse order, ``delay`` apart.
* ``unknown_message_id_report`` - one more report, for a MessageID the mock never gave.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from mockmmsc.settings import ConflictError, SettingsError

__all__ = [
    "ANSWER_FAULTS",
    "FAULT_KINDS",
    "REPORT_FAULTS",
    "Fault",
    "FaultBook",
    "HoldRegistry",
    "faults_from",
    "html_error_page",
    "malform",
]

#: Faults acting on the HTTP answer.
ANSWER_FAULTS: tuple[str, ...] = (
    "delay",
    "no_answer",
    "reset_before_body",
    "reset_after_body",
    "http_error",
    "soap_fault",
    "truncated",
    "malformed",
    "wrong_transaction_id",
    "slow_body",
)
#: Faults acting on delivery reports.
REPORT_FAULTS: tuple[str, ...] = (
    "duplicate_report",
    "out_of_order_reports",
    "unknown_message_id_report",
)
FAULT_KINDS: tuple[str, ...] = ANSWER_FAULTS + REPORT_FAULTS
#: the HTTP statuses an ``http_error`` fault answers with (a load balancer's)
HTTP_ERROR_STATUSES = (500, 502, 503)
_ids = itertools.count(1)


@dataclass(slots=True)
class Fault:
    """One fault and when it applies (see the module documentation for the kinds).

    Attributes:
        kind: one of :data:`FAULT_KINDS`.
        probability: share (0..1) of the matching requests it applies to.
        times: applies to the first N matching requests only (``None``: every one).
        operation: global faults: the operation it applies to (``*``: any).
        vas_id: global faults: the VASID it applies to (``None``: any).
        delay: seconds to wait before acting (scaled); for the report kinds the gap between
            two reports (``out_of_order_reports``: the hold-back, default 1 s).
        delay_max: when set, the wait is drawn uniformly from ``delay..delay_max``.
        http_status: HTTP status of ``http_error`` (500/502/503) or ``soap_fault`` (400..599).
        status: MM7 status of ``soap_fault`` (1000..9999, default 3000).
        hold: ``no_answer``: real seconds to hold at most (``None``: ``fault_max_hold``).
        chunk_size: ``slow_body``: bytes per write.
        chunk_interval: ``slow_body``: seconds between writes (scaled).
        id: its id (``f1``, ``f2``... when not given).
        hits: how many requests it was applied to.
    """

    kind: str
    probability: float = 1.0
    times: int | None = None
    operation: str = "*"
    vas_id: str | None = None
    delay: float = 0.0
    delay_max: float | None = None
    http_status: int | None = None
    status: int | None = None
    hold: float | None = None
    chunk_size: int = 16
    chunk_interval: float = 0.05
    id: str = ""
    hits: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in FAULT_KINDS:
            raise SettingsError(f"fault kind={self.kind!r}: expected one of {list(FAULT_KINDS)}")
        if not self.id:
            self.id = f"f{next(_ids)}"
        for name in ("probability", "delay", "delay_max", "hold", "chunk_interval", "times"):
            value = getattr(self, name)
            if value is None and name in ("delay_max", "hold", "times"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise SettingsError(f"fault {self.kind}: {name}={value!r} must be a number >= 0")
            if value == float("inf"):
                raise SettingsError(f"fault {self.kind}: {name}={value!r} must be finite")
        if self.probability > 1:
            raise SettingsError(f"fault {self.kind}: probability={self.probability!r} must be <= 1")
        if self.times is not None and not isinstance(self.times, int):
            raise SettingsError(f"fault {self.kind}: times={self.times!r} must be an integer")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int):
            raise SettingsError(f"fault {self.kind}: chunk_size={self.chunk_size!r}: an integer")
        if self.chunk_size < 1:
            raise SettingsError(f"fault {self.kind}: chunk_size={self.chunk_size!r} must be >= 1")
        if self.http_status is not None:
            allowed = HTTP_ERROR_STATUSES if self.kind == "http_error" else range(400, 600)
            if isinstance(self.http_status, bool) or self.http_status not in allowed:
                raise SettingsError(
                    f"fault {self.kind}: http_status={self.http_status!r} must be one of "
                    f"{list(HTTP_ERROR_STATUSES) if self.kind == 'http_error' else '400..599'}"
                )
        if self.status is not None and (
            isinstance(self.status, bool)
            or not isinstance(self.status, int)
            or not 1000 <= self.status <= 9999
        ):
            raise SettingsError(f"fault {self.kind}: status={self.status!r} must be 1000..9999")
        for name in ("operation", "id"):
            if not isinstance(getattr(self, name), str):
                raise SettingsError(f"fault: {name}={getattr(self, name)!r} must be a string")
        if self.vas_id is not None and not isinstance(self.vas_id, str):
            raise SettingsError(f"fault: vas_id={self.vas_id!r} must be a string or null")

    @classmethod
    def from_value(cls, value: Fault | str | Mapping[str, Any]) -> Fault:
        """A fault from its kind (``"no_answer"``), its dict form or itself."""
        if isinstance(value, Fault):
            return value
        if isinstance(value, str):
            return cls(kind=value)
        if not isinstance(value, Mapping):
            raise SettingsError(f"fault {value!r}: expected a kind name or an object")
        unknown = set(value) - _FAULT_FIELDS
        if unknown:
            raise SettingsError(f"fault: unknown field(s) {sorted(map(str, unknown))}")
        if "kind" not in value:
            raise SettingsError(f"fault {dict(value)!r}: 'kind' is required")
        try:
            return cls(**value)
        except TypeError as exc:
            raise SettingsError(f"fault {dict(value)!r}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """The fault as JSON-able data (with its hit count)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def is_report_fault(self) -> bool:
        """True for the delivery-report kinds."""
        return self.kind in REPORT_FAULTS

    def matches(self, operation: str | None, vas_id: str | None) -> bool:
        """True when the global match fields accept the request."""
        if operation is not None and self.operation not in ("*", operation):
            return False
        return self.vas_id is None or self.vas_id == vas_id

    def take(self, rng: random.Random) -> bool:
        """Count a hit and return True when the fault applies to one more request."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.probability < 1.0 and rng.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def wait_seconds(self, rng: random.Random) -> float:
        """The (unscaled) wait before acting: ``delay``, or a draw between ``delay`` and
        ``delay_max`` (whichever is larger)."""
        if self.delay_max is None:
            return self.delay
        return rng.uniform(self.delay, self.delay_max)


_FAULT_FIELDS = {f.name for f in fields(Fault)}


def faults_from(value: Any, where: str) -> list[Fault]:
    """The ``fault`` field of a rule: ``None``, a kind, an object or a list of them."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    result: list[Fault] = []
    for item in items:
        try:
            fault = Fault.from_value(item)
        except SettingsError as exc:
            raise SettingsError(f"{where}: {exc}") from exc
        if fault.kind == "reset_before_body":
            raise SettingsError(
                f"{where}: reset_before_body acts before the request is read, so a rule cannot "
                "match it; add it as a global fault (settings.faults or POST /api/faults)"
            )
        result.append(fault)
    return result


class FaultBook:
    """The global faults of a running mock, in order (the first applicable one of a stage wins).

    Args:
        faults: initial faults (objects, dicts or kind names).
        seed: seed of the probability and random-delay draws.
        max_faults: refuse more than this many.
    """

    def __init__(
        self, faults: Iterable[Any] = (), seed: int | None = None, max_faults: int = 1000
    ) -> None:
        self._faults: list[Fault] = []
        self.random = random.Random(seed)
        self.max_faults = max_faults
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault | str | Mapping[str, Any]) -> str:
        """Add a global fault; returns its id."""
        item = Fault.from_value(fault)
        if len(self._faults) >= self.max_faults:
            raise ConflictError(f"too many faults (limit {self.max_faults})")
        if any(f.id == item.id for f in self._faults):
            raise ConflictError(f"fault id {item.id!r} already exists")
        self._faults.append(item)
        return item.id

    def remove(self, fault_id: str) -> bool:
        """Remove a fault by id; False when there is none."""
        for i, fault in enumerate(self._faults):
            if fault.id == fault_id:
                del self._faults[i]
                return True
        return False

    def reset(self) -> int:
        """Remove every fault; returns how many there were."""
        count = len(self._faults)
        self._faults.clear()
        return count

    def get(self, fault_id: str) -> Fault | None:
        """The fault with this id, if any."""
        return next((f for f in self._faults if f.id == fault_id), None)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def before_read(self) -> Fault | None:
        """A ``reset_before_body`` fault applying to the request now arriving, if any."""
        for fault in self._faults:
            if fault.kind == "reset_before_body" and fault.take(self.random):
                return fault
        return None

    def pick(
        self,
        candidates: Iterable[Fault],
        operation: str,
        vas_id: str | None,
        *,
        report: bool,
    ) -> Fault | None:
        """The first applicable fault of a stage: the rule's ``candidates``, then the globals.

        ``report`` selects the delivery-report kinds (else the answer kinds, without
        ``reset_before_body``, which :meth:`before_read` handles).
        """
        for fault in candidates:
            if fault.is_report_fault == report and fault.take(self.random):
                return fault
        for fault in self._faults:
            if fault.kind == "reset_before_body" or fault.is_report_fault != report:
                continue
            if fault.matches(operation, vas_id) and fault.take(self.random):
                return fault
        return None


class HoldRegistry:
    """Connections held by ``no_answer`` faults; :meth:`release_all` ends them (on shutdown)."""

    def __init__(self) -> None:
        self.stopping = False
        self.holding = 0

    async def hold(self, seconds: float, gone: Callable[[], bool], poll: float = 0.01) -> None:
        """Wait up to ``seconds``, until ``gone()`` is true (the client left) or release."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, seconds)
        self.holding += 1
        try:
            while not self.stopping and not gone():
                left = deadline - loop.time()
                if left <= 0:
                    return
                await asyncio.sleep(min(poll, left))
        finally:
            self.holding -= 1

    def release_all(self) -> None:
        """End every hold now, and every later one at once (the mock is stopping)."""
        self.stopping = True


def html_error_page(status: int) -> str:
    """The HTML page a load balancer shows for ``status``."""
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(
        status, "Error"
    )
    return (
        f"<html><head><title>{status} {reason}</title></head><body>"
        f"<center><h1>{status} {reason}</h1></center><hr><center>nginx</center>"
        "</body></html>\n"
    )


def malform(body: bytes) -> bytes:
    """``body`` with every end tag turned into a start tag: not well-formed XML any more."""
    return body.replace(b"</", b"<")
