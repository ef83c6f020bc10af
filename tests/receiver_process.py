"""``mm7 receive`` in a child process, for the tests that kill it, restart it or starve it."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from services import free_port


class ReceiverProcess:
    """``mm7 receive --store STORE`` on 127.0.0.1 in a child process, its stderr in ``log``.

    The port stays the same across restarts (a free one unless given). ``env`` replaces the
    child's environment, ``preexec_fn`` runs in the child before exec.
    """

    def __init__(
        self,
        store: str | Path,
        log: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.port = free_port() if port is None else port
        self.store = store
        self.log = log
        self.env = env
        self.preexec_fn = preexec_fn
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> str:
        """Start it and wait for the URL it prints once it listens; returns that URL."""
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "mm7client.cli.receive",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--store",
                str(self.store),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=self.env,
                preexec_fn=self.preexec_fn,
            )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), self.start_timeout)
        url = line.decode().strip()
        assert url == self.url, (url, self.log.read_text())
        return url

    async def kill(self) -> None:
        """SIGKILL: a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 10.0)

    async def stop(self) -> int | None:
        """SIGTERM (unless it has ended) and its exit code; ``None`` when never started."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), self.stop_timeout)
