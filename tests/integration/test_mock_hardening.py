"""Small hardening guarantees of the mock: isolation between tests and safe part downloads."""

from __future__ import annotations

import aiohttp
import pytest

from mm7client.model import Part
from mockmmsc.testing import lgt_submit, post_mm7


@pytest.mark.asyncio
async def test_reset_forgets_global_faults(mmsc) -> None:
    mmsc.endpoint.faults.add("http_error")
    async with aiohttp.ClientSession() as session:
        broken = await post_mm7(session, mmsc.url, lgt_submit())
        mmsc.reset()
        healthy = await post_mm7(session, mmsc.url, lgt_submit())
    assert broken.http_status >= 500
    assert len(mmsc.endpoint.faults) == 0
    assert healthy.http_status == 200
    assert healthy.message is not None and healthy.message.status.code == "1000"


@pytest.mark.asyncio
async def test_a_part_opened_directly_runs_no_script(mmsc) -> None:
    html = Part.from_bytes(b"<script>alert(1)</script>", "text/html", filename="x.html")
    request = lgt_submit(content=[Part.from_text("hi"), html], smil=False)
    async with aiohttp.ClientSession() as session:
        answer = await post_mm7(session, mmsc.url, request)
        assert answer.http_status == 200
        received = mmsc.messages[-1]
        index = next(i for i, p in enumerate(received.parts) if p.content_type == "text/html")
        part_url = f"{mmsc.base_url}/api/messages/{received.id}/parts/{index}"
        async with session.get(part_url) as response:
            body = await response.read()
            policy = response.headers["Content-Security-Policy"]
    assert body == b"<script>alert(1)</script>"
    assert "sandbox" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
