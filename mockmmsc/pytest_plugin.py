"""pytest plugin of the mock MMSC (registered through the ``pytest11`` entry point).

Fixtures:

* ``mmsc`` - an isolated, started mock per test, of the kind the test needs: in an ``async def``
  test a :class:`~mockmmsc.MockMMSC` on the test's event loop (needs pytest-asyncio); in a plain
  test a :class:`~mockmmsc.SyncMockMMSC`, the same mock served from a background thread with
  the same assertion API as blocking methods (so ``SyncMM7Client`` or any blocking HTTP client
  can talk to it).
* ``mmsc_sync`` / ``mmsc_async`` - the one or the other, whatever the test.
* ``mmsc_settings`` - the :class:`~mockmmsc.MockSettings` of the three (127.0.0.1, port 0,
  ``time_scale=0.01``); override it in a test module or conftest to change them.
* ``mmsc_session_settings`` / ``mmsc_session`` - one async mock for the whole session (tests
  using it run in the session event loop: ``@pytest.mark.asyncio(loop_scope="session")``; call
  ``mmsc_session.reset()`` to forget what earlier tests left).

Importing this module is cheap and never fails: the mock itself (aiohttp, lxml) is imported when
a fixture is first used. Without pytest-asyncio the sync fixtures work and the async ones fail
saying what to install (``pip install 'mm7toolkit[pytest]'``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from mockmmsc.settings import MockSettings
    from mockmmsc.testing import MockMMSC
    from mockmmsc.threaded import SyncMockMMSC

try:  # pragma: no cover - depends on the environment
    import pytest_asyncio
except ImportError:  # pragma: no cover
    pytest_asyncio = None  # type: ignore[assignment]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The name pytest-asyncio registers its plugin under (``-p no:asyncio`` disables it).
ASYNCIO_PLUGIN = "asyncio"

NEEDS_PYTEST_ASYNCIO = (
    "{what} needs pytest-asyncio (the mock runs on its event loop): "
    "pip install 'mm7toolkit[pytest]'. A plain (non-async) test can use the mmsc fixture "
    "without it."
)


def pytest_configure(config: pytest.Config) -> None:
    """Without pytest-asyncio, register its ``asyncio`` marker so that a marked test reaches
    the fixture's message on what to install instead of failing ``--strict-markers``."""
    if not config.pluginmanager.hasplugin(ASYNCIO_PLUGIN):
        config.addinivalue_line(
            "markers", "asyncio: an async test (needs pytest-asyncio: mm7toolkit[pytest])"
        )


def _default_settings() -> MockSettings:
    from mockmmsc.settings import MockSettings

    return MockSettings(host="127.0.0.1", port=0, time_scale=0.01)


def _is_async_test(request: pytest.FixtureRequest) -> bool:
    """True when the requesting test is an ``async def`` (or hypothesis' wrapper of one)."""
    function: Any = getattr(request.node, "obj", None)
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    return inspect.iscoroutinefunction(inner or function)


def _require_pytest_asyncio(request: pytest.FixtureRequest, what: str) -> None:
    if pytest_asyncio is None or not request.config.pluginmanager.hasplugin(ASYNCIO_PLUGIN):
        pytest.fail(NEEDS_PYTEST_ASYNCIO.format(what=what), pytrace=False)


@pytest.fixture
def mmsc_settings() -> MockSettings:
    """Settings of the ``mmsc`` fixtures; override to change them."""
    return _default_settings()


@pytest.fixture(scope="session")
def mmsc_session_settings() -> MockSettings:
    """Settings of the ``mmsc_session`` fixture; override to change them."""
    return _default_settings()


@pytest.fixture
def mmsc(request: pytest.FixtureRequest) -> MockMMSC | SyncMockMMSC:
    """A started mock MMSC on 127.0.0.1 (free port), isolated per test: on the test's event
    loop in an async test, in a background thread in a plain one."""
    if _is_async_test(request):
        _require_pytest_asyncio(request, f"the mmsc fixture of the async test {request.node.name}")
        mock: MockMMSC = request.getfixturevalue("mmsc_async")
        return mock
    threaded: SyncMockMMSC = request.getfixturevalue("mmsc_sync")
    return threaded


@pytest.fixture
def mmsc_sync(mmsc_settings: MockSettings) -> Iterator[SyncMockMMSC]:
    """A started mock MMSC served from a background thread, for plain (non-async) tests."""
    from mockmmsc.threaded import SyncMockMMSC

    with SyncMockMMSC(mmsc_settings) as mock:
        yield mock


async def _serve(settings: MockSettings) -> AsyncIterator[MockMMSC]:
    from mockmmsc.testing import MockMMSC

    async with MockMMSC(settings) as mock:
        yield mock


def _async_fixture(**options: Any) -> Callable[[_F], _F]:
    """pytest-asyncio's fixture decorator; pytest's when it is not installed (the fixture then
    fails in :func:`pytest_fixture_setup`, saying what to install)."""
    if pytest_asyncio is None:  # pragma: no cover - depends on the environment
        options.pop("loop_scope", None)
        return cast(Callable[[_F], _F], pytest.fixture(**options))
    return cast(Callable[[_F], _F], pytest_asyncio.fixture(**options))


@_async_fixture()
async def mmsc_async(mmsc_settings: MockSettings) -> AsyncIterator[MockMMSC]:
    """A started mock MMSC on the test's event loop (127.0.0.1, free port)."""
    async for mock in _serve(mmsc_settings):
        yield mock


@_async_fixture(scope="session", loop_scope="session")
async def mmsc_session(mmsc_session_settings: MockSettings) -> AsyncIterator[MockMMSC]:
    """One started mock MMSC for the whole session (use ``reset()`` between tests)."""
    async for mock in _serve(mmsc_session_settings):
        yield mock


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> None:
    """This module's async fixtures fail early, saying why: without pytest-asyncio (instead of
    pytest's "requested an async fixture ... with no plugin"), and ``mmsc_async`` in a plain
    test (whose event loop never runs: every request to the mock would hang)."""
    function = inspect.unwrap(fixturedef.func)  # pytest-asyncio wraps it in a synchronizer
    if function.__module__ != __name__ or not inspect.isasyncgenfunction(function):
        return
    _require_pytest_asyncio(request, f"the {fixturedef.argname} fixture")
    if fixturedef.scope == "function" and not _is_async_test(request):
        pytest.fail(
            f"the {fixturedef.argname} fixture serves the mock on the test's event loop, which "
            f"the plain test {request.node.name} never runs (its requests would hang): use "
            "mmsc or mmsc_sync",
            pytrace=False,
        )
