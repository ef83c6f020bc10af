"""What the browser tests (and the screenshot script) share: the system Chromium's launch
options, JPEGs drawn by the browser, and a rig of mock MMSC + report receiver + client.

The browser is the system's Chromium (``MM7_CHROMIUM``, default ``/usr/bin/chromium``), driven
by Playwright; nothing is downloaded.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from playwright.async_api import Browser

from mm7client import MM7Client
from mm7client.receiver import ReceiverServer, SqliteStore
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, MockSettings

CHROMIUM = os.environ.get("MM7_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Milliseconds Playwright waits for anything on the page.
TIMEOUT_MS = 10_000

# Draws a picture on a canvas and returns it as a baseline JPEG (data URL): a real JPEG made
# by the browser's own encoder, so the tests need no image library.
_JPEG_SCRIPT = """([width, height, label, hue]) => {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, height);
  sky.addColorStop(0, `hsl(${hue}, 70%, 62%)`);
  sky.addColorStop(1, `hsl(${(hue + 40) % 360}, 80%, 86%)`);
  g.fillStyle = sky;
  g.fillRect(0, 0, width, height);
  g.fillStyle = "rgba(255, 236, 160, 0.95)";
  g.beginPath();
  g.arc(width * 0.74, height * 0.3, height * 0.13, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = `hsl(${(hue + 160) % 360}, 35%, 38%)`;
  g.beginPath();
  g.moveTo(0, height);
  g.lineTo(0, height * 0.72);
  g.lineTo(width * 0.28, height * 0.45);
  g.lineTo(width * 0.5, height * 0.66);
  g.lineTo(width * 0.72, height * 0.5);
  g.lineTo(width, height * 0.75);
  g.lineTo(width, height);
  g.fill();
  g.fillStyle = "rgba(255, 255, 255, 0.92)";
  g.font = `bold ${Math.round(height / 9)}px sans-serif`;
  g.fillText(label, width * 0.06, height * 0.16);
  return canvas.toDataURL("image/jpeg", 0.82);
}"""


async def make_jpeg(
    browser: Browser, label: str, width: int = 480, height: int = 320, hue: int = 205
) -> bytes:
    """A real JPEG drawn by the browser (a landscape with ``label`` written on it)."""
    page = await browser.new_page()
    try:
        url = await page.evaluate(_JPEG_SCRIPT, [width, height, label, hue])
    finally:
        await page.close()
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix), url[:40]
    data = base64.b64decode(url[len(prefix) :])
    assert data[:3] == b"\xff\xd8\xff", "not a JPEG"
    return data


@dataclass
class Rig:
    """The mock MMSC, the report receiver and a client, all on 127.0.0.1."""

    mmsc: MockMMSC
    receiver: ReceiverServer
    client: MM7Client

    def connect(self, vas_id: str) -> MM7Client:
        """Another client for ``vas_id`` (use as ``async with``)."""
        return client_for(self.mmsc, vas_id)


def client_for(mmsc: MockMMSC, vas_id: str) -> MM7Client:
    # throttled results come back at once (no automatic resend) so a test sees the 4030
    return MM7Client(
        mmsc.url,
        vasp_id="VASP01",
        vas_id=vas_id,
        kisa_orig_code="123456789",
        callback="15881234",
        retry=RetryPolicy(max_throttled_resends=0, pause_seconds=0.01, max_attempts=1),
    )


@asynccontextmanager
async def running_rig(time_scale: float = 0.1) -> AsyncIterator[Rig]:
    """A mock MMSC whose delivery reports go to a receiver (sqlite in memory), and a client."""
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, host="127.0.0.1", port=0) as receiver,
    ):
        settings = MockSettings(
            host="127.0.0.1",
            port=0,
            time_scale=time_scale,
            report_delay=1.0,
            report_url=receiver.url,
        )
        async with MockMMSC(settings) as mmsc, client_for(mmsc, "VAS01") as client:
            yield Rig(mmsc, receiver, client)
