"""Operations, shared by the receiver and the mock MMSC: metrics, request logs, health.

* :class:`RequestRecord` - what a server saw of one request (operation, MM7 status, HTTP
  status, VASID, recipient, TransactionID, duration); the handler fills it in.
* :class:`ServerObserver` - one per server application: :meth:`~ServerObserver.observe` counts
  a finished request in the application's own Prometheus registry and logs one line about it
  (logger ``mm7client.receiver.requests`` or ``mockmmsc.requests``, level INFO: shown at
  ``-v``); :meth:`~ServerObserver.render` is the ``/metrics`` answer.
* :class:`ClientStatsCollector` - the client's ``stats`` (per-VASID counters) for a user's
  registry: ``REGISTRY.register(ClientStatsCollector(client))``.
* :class:`JsonLogFormatter` and :func:`configure_logging` - ``--log-format json``: one JSON
  object per line, the request fields as keys.

Metrics need ``prometheus-client`` (the ``metrics`` extra: ``pip install 'mm7toolkit[metrics]'``).
Without it the servers run as before, count nothing, and ``/metrics`` answers 501 naming the
extra. No module here touches prometheus-client's global default registry: each observer has a
registry of its own (many servers may run in one process, as in the tests).

The metric families (the same on both servers, the ``server`` label saying which; the
``mm7_reports_*`` ones are the delivery reports the mock sends, ``mm7_received_items_total``
the items the receiver stores):

================================== ========= =============================================
name                               type      labels
================================== ========= =============================================
``mm7_requests_total``             counter   server, operation, status_code, http_status
``mm7_vasid_requests_total``       counter   server, vas_id, outcome (accepted / refused)
``mm7_request_duration_seconds``   histogram server, operation
``mm7_reports_pending``            gauge     server
``mm7_reports_sent_total``         counter   server
``mm7_reports_failed_total``       counter   server
``mm7_received_items_total``       counter   server, kind, outcome (stored / duplicate)
================================== ========= =============================================

Label values a peer controls (VASIDs, operation names, the status codes a mock's magic
recipient asks for) are bounded: past
:data:`MAX_LABEL_VALUES` distinct values of one label, new ones count as ``"other"``.

Importing this module loads no aiohttp: the aiohttp side (the handler wrapper, the
``/metrics``, ``/healthz`` and ``/readyz`` routes) is :mod:`mm7client.server_aiohttp`.
"""

from __future__ import annotations

import json
import logging
import sys
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import IO, TYPE_CHECKING, Any, Protocol

try:
    import prometheus_client
    from prometheus_client.core import CounterMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError:  # pragma: no cover - exercised where the extra is not installed
    prometheus_client = None  # type: ignore[assignment]
    Collector = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from mm7client.throttle.stats import VasStats

__all__ = [
    "LOG_FORMATS",
    "MAX_LABEL_VALUES",
    "METRICS_HINT",
    "TEXT_LOG_FORMAT",
    "ClientStatsCollector",
    "JsonLogFormatter",
    "MetricsUnavailableError",
    "RequestRecord",
    "ServerObserver",
    "configure_logging",
    "metrics_available",
    "package_version",
]

#: What to install for metrics (said by ``/metrics`` and the errors when it is missing).
METRICS_HINT = "install prometheus-client: pip install 'mm7toolkit[metrics]'"
#: Distinct values one label takes before new ones count as ``"other"``.
MAX_LABEL_VALUES = 1000
#: Seconds: the request duration histogram's buckets (an MM7 answer takes ms to seconds).
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: ``--log-format`` choices.
LOG_FORMATS = ("text", "json")
#: The text log line's format (``--log-format text``).
TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MAX_LABEL_LENGTH = 64
_MAX_CACHED_CHILDREN = 10_000


class MetricsUnavailableError(RuntimeError):
    """prometheus-client is not installed (see :data:`METRICS_HINT`)."""


def metrics_available() -> bool:
    """Whether prometheus-client is installed (the ``metrics`` extra)."""
    return prometheus_client is not None


def _require_metrics(what: str) -> None:
    if prometheus_client is None:
        raise MetricsUnavailableError(f"{what} needs prometheus-client: {METRICS_HINT}")


def package_version() -> str:
    """The installed distribution's version (``mm7toolkit``; the package's own when it is not
    installed): what ``--version`` prints and ``/healthz`` tells."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mm7toolkit")
    except PackageNotFoundError:
        from mm7client import __version__

        return __version__


# -- one request -----------------------------------------------------------------------------


@dataclass(slots=True)
class RequestRecord:
    """What a server saw of one request; its handler fills in what it learns.

    Attributes:
        operation: the MM7 operation (``"SubmitReq"``, ``"DeliveryReportReq"``...), or what
            stopped the request before one was known (``"refused"``, ``"invalid"``).
        status_code: the MM7 status answered (``None``: no MM7 answer, e.g. a plain 401).
        http_status: the HTTP status answered (``None`` until known: the response's; 0 when
            the connection was dropped without an answer).
        vas_id: the request's VASID, when it has one.
        recipient: its first recipient (``recipients`` says how many there were).
        recipients: the number of recipients.
        transaction_id: its TransactionID.
        peer: the TCP peer address.
        detail: what the server did or why it refused, in a few words (ends the log line).
        duration: seconds from the request's arrival to its answer (set by the server).
    """

    operation: str = "unknown"
    status_code: int | None = None
    http_status: int | None = None
    vas_id: str | None = None
    recipient: str | None = None
    recipients: int = 0
    transaction_id: str | None = None
    peer: str | None = None
    detail: str | None = None
    duration: float = 0.0

    @property
    def accepted(self) -> bool:
        """Whether the request was accepted: an MM7 status of the 1xxx (success) class."""
        return self.status_code is not None and 1000 <= self.status_code < 2000

    def set_recipients(self, recipients: Iterable[str]) -> None:
        """Note the request's recipients (the first is logged, all are counted)."""
        listed = recipients if isinstance(recipients, (tuple, list)) else list(recipients)
        self.recipients = len(listed)
        self.recipient = listed[0] if listed else None

    def log_fields(self) -> dict[str, Any]:
        """The record as the ``extra`` fields of its log line (JSON keys with
        ``--log-format json``)."""
        return {
            "operation": self.operation,
            "vas_id": self.vas_id,
            "recipient": self.recipient,
            "recipients": self.recipients,
            "status_code": self.status_code,
            "http_status": self.http_status,
            "duration_ms": round(self.duration * 1000.0, 3),
            "transaction_id": self.transaction_id,
            "peer": self.peer,
            "detail": self.detail,
        }


# -- a server's metrics and request log ------------------------------------------------------


class _BoundedLabel:
    """Values of one label a peer controls: the first :data:`MAX_LABEL_VALUES` pass, later
    ones become ``"other"`` (a flood of made-up VASIDs must not grow the registry forever)."""

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, value: str | None) -> str:
        text = (value or "")[:_MAX_LABEL_LENGTH]
        if text in self._seen:
            return text
        if len(self._seen) >= self._limit:
            return "other"
        self._seen.add(text)
        return text


class _Count:
    """One labelled counter's value, counted in place."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class _Spread:
    """One labelled histogram's observations: a count per bucket (not cumulative: the last is
    ``+Inf``) and their sum."""

    __slots__ = ("buckets", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(DURATION_BUCKETS) + 1)
        self.sum = 0.0


class _RequestMetrics(Collector):
    """``mm7_requests_total``, ``mm7_vasid_requests_total`` and
    ``mm7_request_duration_seconds``, counted per request in plain objects and turned into
    metric families at each scrape.

    A request is counted with two dictionary lookups and a few additions (about 1 µs), where
    prometheus-client's own ``Counter`` and ``Histogram`` take a lock per value (about
    10 µs for the four values a request moves): the servers count on their event loop's
    thread, and a scrape reads the counts on that thread too (``/metrics``) or copies them
    first. Each raw label set (operation, status, HTTP status; VASID, outcome) is turned into
    its bounded label values once and cached (at most ``_MAX_CACHED_CHILDREN`` of them).
    """

    def __init__(self, server: str) -> None:
        self._server = server
        self._operations = _BoundedLabel(100)
        self._statuses = _BoundedLabel()
        self._vas_ids = _BoundedLabel()
        self._counts: dict[tuple[str, str, str], _Count] = {}
        self._spreads: dict[str, _Spread] = {}
        self._vasid_counts: dict[tuple[str, str], _Count] = {}
        self._cells: dict[tuple[str, int | None, int | None], tuple[_Count, _Spread]] = {}
        self._vasid_cells: dict[tuple[str, bool], _Count] = {}

    def count(self, record: RequestRecord) -> None:
        """Count one answered request."""
        cells = self._cells.get((record.operation, record.status_code, record.http_status))
        if cells is None:
            cells = self._cells_of(record)
        counter, spread = cells
        counter.value += 1
        duration = record.duration
        spread.buckets[bisect_left(DURATION_BUCKETS, duration)] += 1
        spread.sum += duration
        vas_id = record.vas_id
        if vas_id is not None:
            accepted = record.accepted
            vasid_counter = self._vasid_cells.get((vas_id, accepted))
            if vasid_counter is None:
                vasid_counter = self._vasid_cell(vas_id, accepted)
            vasid_counter.value += 1

    def _cells_of(self, record: RequestRecord) -> tuple[_Count, _Spread]:
        operation = self._operations(record.operation)
        status = self._statuses("" if record.status_code is None else str(record.status_code))
        http = "" if record.http_status is None else str(record.http_status)
        counter = self._counts.setdefault((operation, status, http), _Count())
        spread = self._spreads.setdefault(operation, _Spread())
        if len(self._cells) < _MAX_CACHED_CHILDREN:
            self._cells[(record.operation, record.status_code, record.http_status)] = (
                counter,
                spread,
            )
        return counter, spread

    def _vasid_cell(self, vas_id: str, accepted: bool) -> _Count:
        outcome = "accepted" if accepted else "refused"
        counter = self._vasid_counts.setdefault((self._vas_ids(vas_id), outcome), _Count())
        if len(self._vasid_cells) < _MAX_CACHED_CHILDREN:
            self._vasid_cells[(vas_id, accepted)] = counter
        return counter

    def collect(self) -> Iterator[Metric]:
        """The three families, read from the counts now."""
        from prometheus_client.core import HistogramMetricFamily

        server = self._server
        requests = CounterMetricFamily(
            "mm7_requests",
            "MM7 requests answered, by operation, MM7 status code and HTTP status",
            labels=["server", "operation", "status_code", "http_status"],
        )
        for (operation, status, http), counter in list(self._counts.items()):
            requests.add_metric([server, operation, status, http], float(counter.value))
        per_vasid = CounterMetricFamily(
            "mm7_vasid_requests",
            "MM7 requests of each VASID, accepted (status 1xxx) or refused",
            labels=["server", "vas_id", "outcome"],
        )
        for (vas_id, outcome), counter in list(self._vasid_counts.items()):
            per_vasid.add_metric([server, vas_id, outcome], float(counter.value))
        durations = HistogramMetricFamily(
            "mm7_request_duration_seconds",
            "Seconds from a request's arrival to its answer",
            labels=["server", "operation"],
        )
        # the ``le`` labels as prometheus-client writes them (repr() of these bounds)
        bounds = [repr(bound) for bound in DURATION_BUCKETS] + ["+Inf"]
        for operation, spread in list(self._spreads.items()):
            cumulative = list(accumulate(spread.buckets))
            durations.add_metric(
                [server, operation],
                [(bound, float(total)) for bound, total in zip(bounds, cumulative, strict=True)],
                spread.sum,
            )
        yield requests
        yield per_vasid
        yield durations

    def describe(self) -> Iterator[Metric]:
        """The families this collector yields (checked for clashes when registered)."""
        return self.collect()


class _HasRemote(Protocol):
    @property
    def remote(self) -> str | None: ...


#: Called before each ``/metrics`` answer to bring gauges up to date (may be async).
Refresher = Callable[[], Awaitable[None] | None]


class ServerObserver:
    """The metrics and the request log of one server application.

    Args:
        server: the server's name, the ``server`` label of every metric (``"receiver"``,
            ``"mockmmsc"``).
        logger: where the request lines go (level INFO), e.g. ``mockmmsc.requests``.
        registry: the Prometheus registry to count in (default: a new one of this observer's
            own, never the global default registry). Ignored without prometheus-client.

    Without prometheus-client the observer still logs; :attr:`enabled` is False and
    :meth:`render` raises :class:`MetricsUnavailableError`.
    """

    def __init__(self, server: str, logger: logging.Logger | str, registry: Any = None) -> None:
        self.server = server
        self.log = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._refreshers: list[Refresher] = []
        self._requests: _RequestMetrics | None = None
        self.registry: Any = None
        if prometheus_client is None:
            return
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self._requests = _RequestMetrics(server)
        reg.register(self._requests)
        self.reports_pending = Gauge(
            "mm7_reports_pending",
            "Delivery reports waiting to be sent or retried",
            ["server"],
            registry=reg,
        )
        self.reports_sent = Counter(
            "mm7_reports_sent",
            "Delivery reports acknowledged by the VASP",
            ["server"],
            registry=reg,
        )
        self.reports_failed = Counter(
            "mm7_reports_failed",
            "Delivery reports given up (attempts or time exhausted) without an acknowledgement",
            ["server"],
            registry=reg,
        )
        self.received_items = Counter(
            "mm7_received_items",
            "Reports, MO messages and read replies received, stored or found duplicate",
            ["server", "kind", "outcome"],
            registry=reg,
        )
        for family in (self.reports_pending, self.reports_sent, self.reports_failed):
            family.labels(server)  # shown from the start, at 0

    @property
    def enabled(self) -> bool:
        """Whether metrics are counted (prometheus-client is installed)."""
        return self.registry is not None

    def observe(self, record: RequestRecord, source: _HasRemote | None = None) -> None:
        """Count ``record`` and log its line (call once per request, when it is answered).

        ``source``: the request (anything with a ``remote`` address), whose address becomes
        the record's ``peer`` when the line is logged and the record has none.
        """
        if self._requests is not None:
            self._requests.count(record)
        if self.log.isEnabledFor(logging.INFO):
            if record.peer is None and source is not None:
                record.peer = source.remote
            more = f" (+{record.recipients - 1})" if record.recipients > 1 else ""
            self.log.info(
                "%s vasid=%s recipient=%s%s status=%s http=%s ms=%.1f tid=%s peer=%s%s",
                record.operation,
                record.vas_id or "-",
                record.recipient or "-",
                more,
                "-" if record.status_code is None else record.status_code,
                "-" if record.http_status is None else record.http_status,
                record.duration * 1000.0,
                record.transaction_id or "-",
                record.peer or "-",
                f": {record.detail}" if record.detail else "",
                extra=record.log_fields(),
            )

    def set_reports_pending(self, count: int) -> None:
        """Set the ``mm7_reports_pending`` gauge (from a refresher, see :meth:`add_refresher`)."""
        if self.registry is not None:
            self.reports_pending.labels(self.server).set(count)

    def count_report(self, acknowledged: bool) -> None:
        """Count a delivery report settled: ``acknowledged`` (sent) or given up or expired
        (failed)."""
        if self.registry is not None:
            counter = self.reports_sent if acknowledged else self.reports_failed
            counter.labels(self.server).inc()

    def count_item(self, kind: str, created: bool) -> None:
        """Count an item received (``created``: stored; else a duplicate of a stored one)."""
        if self.registry is not None:
            outcome = "stored" if created else "duplicate"
            self.received_items.labels(self.server, kind, outcome).inc()

    def add_refresher(self, refresher: Refresher) -> None:
        """Run ``refresher`` before each :meth:`render` (to set gauges from the state)."""
        self._refreshers.append(refresher)

    async def render(self) -> tuple[bytes, str]:
        """The ``/metrics`` answer: ``(body, content type)`` in the Prometheus text format."""
        _require_metrics("/metrics")
        for refresher in self._refreshers:
            pending = refresher()
            if pending is not None:
                await pending
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


# -- the client's counters -------------------------------------------------------------------


class _HasStats(Protocol):
    @property
    def stats(self) -> Mapping[str, VasStats]: ...


#: VasStats field -> help of its counter ``mm7_client_<field>_total``.
_CLIENT_COUNTERS = {
    "sent": "HTTP requests sent (every attempt)",
    "paused": "4030 pauses started",
    "throttled_7103": "7103 (slow down) answers",
    "slowed_down": "times the TPS limiter's rate was lowered",
    "retries": "resends after a retry result (backoff)",
    "throttled_resends": "resends after a throttled result",
    "ambiguous": "final results flagged ambiguous",
}


class ClientStatsCollector(Collector):
    """The counters of a client's ``stats`` for a Prometheus registry.

    ``registry.register(ClientStatsCollector(client))`` exposes, per VASID,
    ``mm7_client_sent_total``, ``..._paused_total``, ``..._throttled_7103_total``,
    ``..._slowed_down_total``, ``..._retries_total``, ``..._throttled_resends_total``,
    ``..._ambiguous_total`` and ``mm7_client_results_total{category}`` - read from
    ``client.stats`` at each scrape (nothing is counted twice).

    Args:
        client: an :class:`~mm7client.MM7Client` or :class:`~mm7client.SyncMM7Client` (anything
            with a ``stats`` mapping of VASID to :class:`~mm7client.throttle.VasStats`).

    Raises:
        MetricsUnavailableError: prometheus-client is not installed.
    """

    def __init__(self, client: _HasStats) -> None:
        _require_metrics("ClientStatsCollector")
        self.client = client

    def collect(self) -> Iterator[Metric]:
        """The counter families, read from the client's stats now."""
        stats = dict(self.client.stats)
        families = {
            name: CounterMetricFamily(f"mm7_client_{name}", text, labels=["vas_id"])
            for name, text in _CLIENT_COUNTERS.items()
        }
        results = CounterMetricFamily(
            "mm7_client_results", "final results by category", labels=["vas_id", "category"]
        )
        for vas_id, vas_stats in sorted(stats.items()):
            for name, family in families.items():
                family.add_metric([vas_id], float(getattr(vas_stats, name)))
            for category, count in sorted(vas_stats.results.items()):
                results.add_metric([vas_id, category], float(count))
        yield from families.values()
        yield results

    def describe(self) -> Iterator[Metric]:
        """The families this collector yields (checked for clashes when registered)."""
        return self.collect()


# -- logs ------------------------------------------------------------------------------------

#: Attributes every LogRecord has: anything else on a record came through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


#: Korean text stays readable; a value JSON does not know is written as its str().
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, every ``extra=`` field (a request line's VASID, recipient, status...), and
    ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return _JSON.encode(data)


def configure_logging(
    verbosity: int = 0, log_format: str = "text", stream: IO[str] | None = None
) -> None:
    """Set up the root logger of a command: warnings only, INFO at ``verbosity`` 1 (``-v``:
    a line per request on the servers), DEBUG at 2; ``log_format`` ``"text"`` or ``"json"``
    (:class:`JsonLogFormatter`). Like :func:`logging.basicConfig`, it does nothing when the
    root logger has handlers already.

    Raises:
        ValueError: ``log_format`` is not one of :data:`LOG_FORMATS`.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log_format={log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter = JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_LOG_FORMAT)
    handler.setFormatter(formatter)
    level = logging.WARNING - 10 * max(0, min(verbosity, 2))
    logging.basicConfig(level=level, handlers=[handler])
