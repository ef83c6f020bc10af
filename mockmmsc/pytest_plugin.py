"""pytest plugin of the mock MMSC (registered through the ``pytest11`` entry point).

Fixtures:

* ``mmsc_settings`` - the :class:`~mockmmsc.MockSettings` of ``mmsc`` (127.0.0.1, port 0,
  ``time_scale=0.01``); override it in a test module or conftest to change them.
* ``mmsc`` - an isolated, started :class:`~mockmmsc.MockMMSC` per test (async, function scope).
* ``mmsc_session_settings`` / ``mmsc_session`` - one mock for the whole session (tests using it
  run in the session event loop: ``@pytest.mark.asyncio(loop_scope="session")``; call
  ``mmsc_session.reset()`` to forget what earlier tests left).

Importing this module is cheap and never fails: the mock itself (aiohttp, lxml) is imported when
a fixture is first used, and without pytest-asyncio the fixtures are simply not defined.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mockmmsc.settings import MockSettings
    from mockmmsc.testing import MockMMSC

try:  # pragma: no cover - depends on the environment
    import pytest_asyncio
except ImportError:  # pragma: no cover
    pytest_asyncio = None  # type: ignore[assignment]


def _default_settings() -> MockSettings:
    from mockmmsc.settings import MockSettings

    return MockSettings(host="127.0.0.1", port=0, time_scale=0.01)


@pytest.fixture
def mmsc_settings() -> MockSettings:
    """Settings of the ``mmsc`` fixture; override to change them."""
    return _default_settings()


@pytest.fixture(scope="session")
def mmsc_session_settings() -> MockSettings:
    """Settings of the ``mmsc_session`` fixture; override to change them."""
    return _default_settings()


async def _serve(settings: MockSettings) -> AsyncIterator[MockMMSC]:
    from mockmmsc.testing import MockMMSC

    async with MockMMSC(settings) as mock:
        yield mock


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def mmsc(mmsc_settings: MockSettings) -> AsyncIterator[MockMMSC]:
        """A started mock MMSC on 127.0.0.1 (free port), isolated per test."""
        async for mock in _serve(mmsc_settings):
            yield mock

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def mmsc_session(mmsc_session_settings: MockSettings) -> AsyncIterator[MockMMSC]:
        """One started mock MMSC for the whole session (use ``reset()`` between tests)."""
        async for mock in _serve(mmsc_session_settings):
            yield mock
