"""Builds the mock's aiohttp application from a :class:`~mockmmsc.state.MockState`.

Routes: ``POST /`` and ``POST /mm7`` (the MM7 endpoint, :mod:`mockmmsc.endpoint`), the JSON
API under ``/api/`` (:mod:`mockmmsc.api`), the web inbox on ``GET /`` (:mod:`mockmmsc.inbox`,
a client of the API), ``GET /healthz`` (liveness), ``GET /readyz`` (ready when the application
runs) and ``GET /metrics`` (Prometheus; :mod:`mm7client.observability`, which also logs a line
per MM7 request on logger ``mockmmsc.requests``). The application owns the I/O around the
state: the delivery-report dispatcher (and its sqlite store), started and closed with the
application.

Nothing in the package imports this module but the runner and the test helpers: the parts it
wires together get the state and the dispatcher as arguments, so there is no import circle.
"""

from __future__ import annotations

from aiohttp import web

from mm7client.observability import ServerObserver, package_version
from mm7client.server_aiohttp import add_ops_routes, observed
from mockmmsc import inbox
from mockmmsc.api import JsonApi
from mockmmsc.endpoint import MM7Endpoint
from mockmmsc.reports import ReportDispatcher
from mockmmsc.settings import MockSettings
from mockmmsc.state import MockState
from mockmmsc.store import ReportDatabase

__all__ = ["ENDPOINT_KEY", "REPORTS_KEY", "STATE_KEY", "build_app", "create_app"]

#: The application's :class:`MockState`.
STATE_KEY: web.AppKey[MockState] = web.AppKey("mockmmsc.state", MockState)
#: The application's MM7 endpoint (its connection holds, its prepared answers).
ENDPOINT_KEY: web.AppKey[MM7Endpoint] = web.AppKey("mockmmsc.endpoint", MM7Endpoint)
#: The application's delivery-report dispatcher.
REPORTS_KEY: web.AppKey[ReportDispatcher] = web.AppKey("mockmmsc.reports", ReportDispatcher)


def build_app(state: MockState) -> web.Application:
    """The aiohttp application serving ``state`` (serve it with any aiohttp runner)."""
    settings = state.settings
    database = ReportDatabase(settings.store_path) if settings.store_path else None
    observer = ServerObserver("mockmmsc", "mockmmsc.requests")
    reports = ReportDispatcher(
        settings,
        state.profile,
        state.store,
        database,
        url_for=state.report_url_for,
        on_done=lambda record: observer.count_report(record.acknowledged),
    )
    endpoint = MM7Endpoint(state, reports)
    # the MM7 endpoint reads bodies itself with this limit (413 + fault above it)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[STATE_KEY] = state
    app[ENDPOINT_KEY] = endpoint
    app[REPORTS_KEY] = reports
    handle = observed(endpoint.handle, observer)
    app.router.add_post("/", handle)
    app.router.add_post("/mm7", handle)
    app.router.add_get("/healthz", _healthz)
    observer.add_refresher(lambda: observer.set_reports_pending(state.store.pending_count))
    add_ops_routes(app, observer, healthz=False)  # ready while it runs: no check
    inbox.setup(app)
    JsonApi(state, reports).setup(app)

    async def on_startup(_app: web.Application) -> None:
        await reports.start()

    async def on_shutdown(_app: web.Application) -> None:
        endpoint.holds.release_all()  # connections held by no_answer faults end now

    async def on_cleanup(_app: web.Application) -> None:
        await reports.close()
        if database is not None:
            database.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def _healthz(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "status": "ok",
            "version": package_version(),
            "profile": state.profile.name,
            "messages": len(state.store.messages),
        }
    )


def create_app(settings: MockSettings | None = None) -> web.Application:
    """A ready aiohttp application of a new mock with ``settings``."""
    return build_app(MockState(settings))
