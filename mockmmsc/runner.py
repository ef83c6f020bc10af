"""Serving the mock: :class:`MockRunner` runs an application on a host and port until stopped.

The command line (``mockmmsc serve``) and the test helper (:class:`mockmmsc.testing.MockMMSC`)
both run the mock with it; it knows nothing about MM7.
"""

from __future__ import annotations

import logging

from aiohttp import web

__all__ = ["MockRunner"]

log = logging.getLogger(__name__)


class MockRunner:
    """Serves ``app`` on ``host``:``port`` (0: a free port); ``async with MockRunner(...)``."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._wanted_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self) -> MockRunner:
        """Start serving; returns self."""
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._wanted_port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("mock MMSC listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stop serving (the application's cleanup runs: pending reports stay in the store
        file, if any)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

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
