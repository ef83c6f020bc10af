"""Serving the mock: :class:`MockRunner` runs an application on a host and port until stopped.

The command line (``mockmmsc serve``) and the test helper (:class:`mockmmsc.testing.MockMMSC`)
both run the mock with it; it knows nothing about MM7. It serves through the toolkit's
:class:`~mm7client.http_server.AppServer`, as the receiver does: header, idle and body
timeouts, a connection cap, accept errors logged once per interval
(:attr:`MockSettings.server_limits <mockmmsc.settings.MockSettings.server_limits>`).
"""

from __future__ import annotations

import logging

from aiohttp import web

from mm7client.http_server import AppServer
from mm7client.server import ServerLimits

__all__ = ["MockRunner"]

log = logging.getLogger(__name__)


class MockRunner:
    """Serves ``app`` on ``host``:``port`` (0: a free port) under ``limits`` (default
    :class:`ServerLimits()`); ``async with MockRunner(...)``."""

    def __init__(
        self,
        app: web.Application,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ServerLimits | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.limits = limits or ServerLimits()
        self._wanted_port = port
        self._server: AppServer | None = None
        self._port: int | None = None

    async def start(self) -> MockRunner:
        """Start serving; returns self."""
        if self._server is not None:
            return self
        server = AppServer(
            self.app,
            host=self.host,
            port=self._wanted_port,
            limits=self.limits,
            shutdown_timeout=60.0,  # aiohttp's default, as before
            name="mock MMSC",
        )
        await server.start()
        self._server = server
        self._port = server.port
        log.info("mock MMSC listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop serving (the application's cleanup runs: pending reports stay in the store
        file, if any)."""
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()

    async def __aenter__(self) -> MockRunner:
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
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The MM7 endpoint URL (``.../mm7``; ``POST /`` works too)."""
        return self.base_url + "/mm7"
