"""The mock MMSC: app factory, routes and the :class:`MockMMSC` runner.

Routes: ``POST /`` and ``POST /mm7`` (the MM7 endpoint), ``GET /healthz``, ``GET /`` (a small
page, :mod:`mockmmsc.web`), and the admin JSON API under ``/api/`` (:mod:`mockmmsc.admin`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mm7client.profiles import CarrierProfile, get_profile
from mockmmsc.reports import ReportDispatcher
from mockmmsc.scenarios import Rule, RuleBook
from mockmmsc.settings import MockSettings, SettingsError
from mockmmsc.store import ReceivedRequest, ReportDatabase, ReportRecord, Store
from mockmmsc.throttle import OverloadWindows, TpsContracts

if TYPE_CHECKING:
    from mockmmsc.mm7_endpoint import MM7Endpoint

__all__ = ["MOCK_KEY", "MockMMSC", "create_app"]

log = logging.getLogger(__name__)


class MockMMSC:
    """An LGT-like MMS Relay/Server on aiohttp; use as ``async with MockMMSC(settings) as mmsc``.

    Attributes:
        settings: the :class:`MockSettings` in force.
        profile: the carrier profile answers and reports are encoded with.
        store: what was received (:class:`mockmmsc.store.Store`).
        rules: the :class:`mockmmsc.scenarios.RuleBook`.
        tps: per-VASID TPS contracts; overload_windows: 4030 windows.
        reports: the delivery-report dispatcher.
        app: the aiohttp application (also from :func:`create_app`).
    """

    def __init__(self, settings: MockSettings | None = None, **overrides: Any) -> None:
        settings = settings or MockSettings()
        if overrides:
            settings = settings.replace(**overrides)
        self.settings = settings
        self.profile: CarrierProfile = get_profile(settings.profile)
        self.store = Store(settings.max_stored_messages, settings.max_stored_bytes)
        self.rules = RuleBook(settings.random_seed)
        self.tps = TpsContracts(settings.default_tps)
        for vas_id, account in (settings.accounts or {}).items():
            if account.tps is not None:
                self.tps.set(vas_id, account.tps)
        self.overload_windows = OverloadWindows()
        self.report_urls: dict[str, str] = dict(settings.report_urls)
        if settings.rules_file:
            self.rules.load_file(settings.rules_file)
        for rule in settings.rules:
            self.rules.add(rule)
        self._database = ReportDatabase(settings.store_path) if settings.store_path else None
        self.reports = ReportDispatcher(
            settings, self.profile, self.store, self._database, url_for=self.report_url_for
        )
        self.endpoint: MM7Endpoint | None = None
        self.app = _build_app(self)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> MockMMSC:
        """Start serving; returns self."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        log.info("mock MMSC listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop serving (pending reports stay in the store file, if any)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._database is not None:
            self._database.close()
            self._database = None

    async def __aenter__(self) -> MockMMSC:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port served on."""
        if self._port is None:
            raise RuntimeError("the mock MMSC is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        host = self.settings.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The MM7 endpoint URL (``.../mm7``; ``POST /`` works too)."""
        return self.base_url + "/mm7"

    # -- what was received -----------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedRequest]:
        """Every received request, oldest first."""
        return self.store.messages

    def received(
        self,
        *,
        operation: str | None = None,
        recipient: str | None = None,
        vas_id: str | None = None,
        status_code: int | None = None,
    ) -> list[ReceivedRequest]:
        """Received requests filtered by the given fields."""
        return [
            m
            for m in self.store.messages
            if (operation is None or m.operation == operation)
            and (recipient is None or recipient in m.recipients)
            and (vas_id is None or m.vas_id == vas_id)
            and (status_code is None or m.status_code == status_code)
        ]

    def assert_received(self, count: int | None = None, **filters: Any) -> list[ReceivedRequest]:
        """Assert that requests matching ``filters`` arrived (exactly ``count`` if given)."""
        found = self.received(**filters)
        if count is None:
            assert found, f"no request matching {filters} among {len(self.messages)} received"
        else:
            assert len(found) == count, (
                f"expected {count} request(s) matching {filters}, got {len(found)}: "
                f"{[m.summary() for m in found]}"
            )
        return found

    async def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Wait until at least ``n`` requests arrived; raises TimeoutError saying how many."""
        if not await self.store.wait_until(lambda: len(self.store.messages) >= n, timeout):
            raise TimeoutError(
                f"waited {timeout} s for {n} request(s), got {len(self.store.messages)}"
            )
        return self.store.messages

    async def wait_for_reports(
        self, n: int, timeout: float = 5.0, acknowledged: bool = True
    ) -> list[ReportRecord]:
        """Wait for ``n`` reports: acknowledged ones, or (``acknowledged=False``) ones sent at
        least once. Raises TimeoutError saying how far it got."""

        def chosen() -> list[ReportRecord]:
            if acknowledged:
                return [r for r in self.store.reports if r.acknowledged]
            return [r for r in self.store.reports if r.attempts > 0]

        if not await self.store.wait_until(lambda: len(chosen()) >= n, timeout):
            states = [
                (r.recipient, r.attempts, r.acknowledged, r.last_error) for r in self.store.reports
            ]
            raise TimeoutError(
                f"waited {timeout} s for {n} {'acknowledged ' if acknowledged else ''}report(s), "
                f"got {len(chosen())}; reports: {states}"
            )
        return chosen()

    # -- scenarios -------------------------------------------------------------------------

    def add_rule(self, rule: Rule | Mapping[str, Any] | None = None, **fields: Any) -> str:
        """Add a rule (a :class:`Rule`, its dict form, or keyword fields); returns its id."""
        if rule is None:
            rule = Rule.from_dict(fields)
        return self.rules.add(rule)

    def remove_rule(self, rule_id: str) -> bool:
        """Remove a rule by id; False when there is none."""
        return self.rules.remove(rule_id)

    def reset_rules(self) -> None:
        """Remove every rule."""
        self.rules.reset()

    def set_tps(self, vas_id: str, tps: float | None) -> None:
        """Contract ``tps`` for ``vas_id`` (requests above it get 7103); None = unlimited."""
        self.tps.set(vas_id, tps)

    def overload(
        self, seconds: float, vas_id: str | None = None, *, answered: str | None = None
    ) -> None:
        """Answer 4030 to every SubmitReq of ``vas_id`` (None: everyone) for ``seconds``
        (scaled by the time scale). ``answered``: a VASID already answered 4030 for it."""
        if seconds < 0:
            raise SettingsError(f"overload seconds={seconds!r}: must be >= 0")
        self.overload_windows.start(self.settings.scaled(seconds), vas_id, answered=answered)
        self.store.publish({"type": "overload", "vas_id": vas_id, "seconds": seconds})

    def end_overload(self, vas_id: str | None = None, *, everything: bool = False) -> None:
        """Close the 4030 window of ``vas_id`` (or every window)."""
        self.overload_windows.clear(vas_id, everything=everything)

    def requests_during_overload(self, vas_id: str | None) -> int:
        """SubmitReqs of ``vas_id`` that arrived in a 4030 window after its first 4030 answer."""
        return self.overload_windows.requests_during_overload(vas_id)

    def set_report_url(self, vas_id: str, url: str | None) -> None:
        """Where reports of ``vas_id`` go (None: back to the default)."""
        if url is None:
            self.report_urls.pop(vas_id, None)
        else:
            self.report_urls[vas_id] = url

    def report_url_for(self, vas_id: str | None) -> str | None:
        """The report URL of ``vas_id``: its own, its account's, else the default."""
        if vas_id is not None:
            url = self.report_urls.get(vas_id)
            if url:
                return url
            account = (self.settings.accounts or {}).get(vas_id)
            if account is not None and account.report_url:
                return account.report_url
        return self.settings.report_url

    def reset(self) -> None:
        """Forget received requests, rules, global faults, overload windows and counts."""
        self.store.clear()
        self.rules.reset()
        if self.endpoint is not None:
            self.endpoint.faults.reset()
        self.overload_windows.clear(everything=True)
        self.overload_windows.reset_counts()


#: Where the application keeps its :class:`MockMMSC`.
MOCK_KEY: web.AppKey[MockMMSC] = web.AppKey("mockmmsc")


def _build_app(mock: MockMMSC) -> web.Application:
    from mockmmsc import admin
    from mockmmsc import web as inbox
    from mockmmsc.mm7_endpoint import MM7Endpoint

    # the MM7 endpoint reads bodies itself with this limit (413 + fault above it)
    app = web.Application(client_max_size=mock.settings.max_body_bytes)
    app[MOCK_KEY] = mock
    endpoint = MM7Endpoint(mock)
    mock.endpoint = endpoint
    app.router.add_post("/", endpoint.handle)
    app.router.add_post("/mm7", endpoint.handle)
    app.router.add_get("/healthz", _healthz)
    inbox.setup(app)
    admin.setup(app)

    async def on_startup(_app: web.Application) -> None:
        await mock.reports.start()

    async def on_cleanup(_app: web.Application) -> None:
        await mock.reports.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def _healthz(request: web.Request) -> web.Response:
    mock = request.app[MOCK_KEY]
    return web.json_response(
        {"status": "ok", "profile": mock.profile.name, "messages": len(mock.store.messages)}
    )


def create_app(settings: MockSettings | None = None) -> web.Application:
    """A ready aiohttp application of a new mock (serve it with any aiohttp runner)."""
    return MockMMSC(settings).app
