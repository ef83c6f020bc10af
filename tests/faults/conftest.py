"""Shared fixtures of the fault and hostile-input suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client with a short overall timeout (a hang fails the test)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        yield http
