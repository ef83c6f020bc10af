"""Fixtures of the browser tests: headless system Chromium (one per module), a fresh mock MMSC
with a report receiver and a client (per test), and a fresh page on its inbox (per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from inbox_rig import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Rig, running_rig
from playwright.async_api import Browser, Page, async_playwright


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless system Chromium, one per test module."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    """A fresh mock MMSC (time scale 0.1, or the test's indirect parameter) whose reports go
    to a receiver, and a client."""
    async with running_rig(getattr(request, "param", 0.1)) as rig:
        yield rig


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser, rig: Rig) -> AsyncIterator[Page]:
    """A new page on the inbox of ``rig``'s mock; records console errors and dialogs."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="ko-KR")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    page_errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    async def on_dialog(dialog):  # type: ignore[no-untyped-def]
        dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "confirm":
            await dialog.accept()
        else:
            await dialog.dismiss()

    page.on("dialog", on_dialog)
    page.page_errors = page_errors  # type: ignore[attr-defined]
    page.dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        await context.close()
    assert page_errors == [], f"JavaScript errors on the page: {page_errors}"
