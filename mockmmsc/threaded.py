"""The mock for synchronous code: :class:`SyncMockMMSC` runs a :class:`~mockmmsc.MockMMSC` on
its own event loop in a background thread.

A plain (non-async) test never runs an event loop, so a mock started on the test's loop would
never answer; this one serves from its thread while the test blocks in ``SyncMM7Client`` or
``requests``. Every method runs on the mock's loop (the calling thread waits for it), so the
test reads and scripts the mock without racing the requests being served.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from mm7client.throttle.clock import Clock
from mockmmsc.settings import MockSettings
from mockmmsc.store import ReceivedRequest
from mockmmsc.testing import MockMMSC

__all__ = ["SyncMockMMSC"]

T = TypeVar("T")

#: Longest a call waits for the mock's loop (a ``wait_for_*`` call: its own timeout on top).
CALL_TIMEOUT = 30.0


def _on_loop(name: str) -> Any:
    """A method of :class:`SyncMockMMSC` running ``MockMMSC.<name>`` on the mock's loop (same
    signature and docstring; a coroutine method is awaited there)."""
    original = getattr(MockMMSC, name)
    if inspect.iscoroutinefunction(original):
        signature = inspect.signature(original)

        @functools.wraps(original)
        def wait(self: SyncMockMMSC, *args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(self.mock, *args, **kwargs)
            bound.apply_defaults()
            timeout = CALL_TIMEOUT + float(bound.arguments["timeout"])
            return self.run(getattr(self.mock, name)(*args, **kwargs), timeout)

        return wait

    @functools.wraps(original)
    def call(self: SyncMockMMSC, *args: Any, **kwargs: Any) -> Any:
        return self.call(getattr(self.mock, name), *args, **kwargs)

    return call


class SyncMockMMSC:
    """A :class:`~mockmmsc.MockMMSC` served from a background thread: ``with SyncMockMMSC() as
    mmsc:`` (the ``mmsc`` fixture in a plain test, or ``mmsc_sync``).

    Takes :class:`~mockmmsc.MockMMSC`'s arguments and offers its assertion API as blocking
    methods; anything else runs on the mock's loop with :meth:`call` (``mmsc.call(lambda:
    mmsc.mock.store.reports)``) or :meth:`run` (a coroutine).
    """

    def __init__(
        self, settings: MockSettings | None = None, *, clock: Clock | None = None, **overrides: Any
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._overrides = overrides
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._mock: MockMMSC | None = None
        self._stop_error: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SyncMockMMSC:
        """Start the thread and the mock in it; returns self once it listens."""
        if self._thread is not None:
            return self
        started: concurrent.futures.Future[MockMMSC] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(started),), name="mockmmsc", daemon=True
        )
        self._thread.start()
        try:
            self._mock = started.result(CALL_TIMEOUT)
        except BaseException:
            self._thread.join(CALL_TIMEOUT)
            self._thread = None
            raise
        return self

    async def _serve(self, started: concurrent.futures.Future[MockMMSC]) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            mock = await MockMMSC(self._settings, clock=self._clock, **self._overrides).start()
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(mock)
        try:
            await self._stopping.wait()
        finally:
            try:
                await mock.stop()
            except BaseException as exc:
                self._stop_error = exc

    def stop(self) -> None:
        """Stop the mock and end its thread (pending reports stay in the store file, if any)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        assert self._loop is not None and self._stopping is not None
        self._loop.call_soon_threadsafe(self._stopping.set)
        thread.join(CALL_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"the mock MMSC's thread did not stop within {CALL_TIMEOUT} s")
        error, self._stop_error = self._stop_error, None
        if error is not None:
            raise error

    def __enter__(self) -> SyncMockMMSC:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- running on the mock's loop --------------------------------------------------------

    @property
    def mock(self) -> MockMMSC:
        """The :class:`~mockmmsc.MockMMSC` served (touch it on its loop: :meth:`call`)."""
        if self._mock is None or self._thread is None:
            raise RuntimeError("the mock MMSC is not started")
        return self._mock

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Await ``coroutine`` on the mock's loop and return its result."""
        if self._loop is None or self._thread is None:
            coroutine.close()
            raise RuntimeError("the mock MMSC is not started")
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("SyncMockMMSC.run() called on the mock's own loop: await instead")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``function(*args, **kwargs)`` on the mock's loop and return its result."""

        async def on_loop() -> T:
            return function(*args, **kwargs)

        return self.run(on_loop())

    # -- where it listens (fixed once started) ---------------------------------------------

    @property
    def port(self) -> int:
        """The port served on."""
        return self.mock.port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        return self.mock.base_url

    @property
    def url(self) -> str:
        """The MM7 endpoint URL (``.../mm7``; ``POST /`` works too)."""
        return self.mock.url

    @property
    def settings(self) -> MockSettings:
        """The settings in force."""
        return self.mock.settings

    # -- the assertion API of MockMMSC, run on the mock's loop -----------------------------

    @property
    def messages(self) -> list[ReceivedRequest]:
        """Every received request, oldest first (a copy)."""
        return self.call(lambda: list(self.mock.messages))

    received = _on_loop("received")
    assert_received = _on_loop("assert_received")
    wait_for_messages = _on_loop("wait_for_messages")
    wait_for_reports = _on_loop("wait_for_reports")
    requests_during_overload = _on_loop("requests_during_overload")
    add_rule = _on_loop("add_rule")
    remove_rule = _on_loop("remove_rule")
    reset_rules = _on_loop("reset_rules")
    set_tps = _on_loop("set_tps")
    overload = _on_loop("overload")
    end_overload = _on_loop("end_overload")
    set_report_url = _on_loop("set_report_url")
    report_url_for = _on_loop("report_url_for")
    reset = _on_loop("reset")
