"""The inbox's traffic view, its header and paging back through the list, in headless Chromium
against the real mock (traffic from the real client and plain HTTP, windows from the admin
API)."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from inbox_rig import TIMEOUT_MS, Rig
from playwright.async_api import FloatRect, Locator, Page, expect

from mm7client import Part, SubmitRequest
from mm7client.codes import Category
from mockmmsc.testing import lgt_submit, post_mm7

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
expect.set_options(timeout=TIMEOUT_MS)

HOSTILE_VAS_ID = "<img src=x onerror=alert(1)>"
#: The ``d`` of a path that draws at least one bar.
DRAWN = re.compile(r"^M[\d.]+ [\d.]+h")


async def open_page(page: Page, rig: Rig, fragment: str = "") -> None:
    response = await page.goto(rig.mmsc.base_url + "/" + fragment)
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")


async def drawn_box(locator: Locator) -> FloatRect:
    """The on-screen box of ``locator``'s element. The chart is redrawn as it refreshes, so the
    element measured may be the one just replaced (no box): measure again, for 5 s at most."""
    deadline = asyncio.get_running_loop().time() + 5.0
    while True:
        box = await locator.bounding_box()
        if box is not None:
            return box
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{locator} has no box on screen after 5 s")
        await asyncio.sleep(0.05)


def card(page: Page, vas_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.traffic-card[data-vas="{vas_id}"]')


async def test_traffic_chart_draws_updates_and_shades_a_4030_window(page: Page, rig: Rig) -> None:
    api = rig.mmsc.base_url + "/api"
    console_errors: list[str] = []  # a Content-Security-Policy violation would be one
    page.on(
        "console",
        lambda m: console_errors.append(f"{m.text} {m.location}") if m.type == "error" else None,
    )
    await open_page(page, rig, "#/traffic")
    await expect(page.locator("#btn-traffic")).to_have_class("btn active")
    await expect(page.locator("#traffic-empty")).to_have_text("No traffic in the last 5 minutes.")
    await page.evaluate("window.__sameDocument = true")

    async with aiohttp.ClientSession() as session:
        async with session.put(f"{api}/tps", json={"vas_id": "VAS01", "tps": 2}) as rsp:
            assert rsp.status == 200
        # the real client: accepted, drawn with the contract line
        result = await rig.client.submit(
            SubmitRequest(to=["01012345678"], subject="트래픽", content=[Part.from_text("1")])
        )
        assert result.normalized.category is Category.SUCCESS, result
        first = card(page, "VAS01")
        await expect(first.locator(".t-accepted")).to_have_text("1")
        await expect(first.locator(".traffic-head")).to_contain_text("contract 2 TPS")
        await expect(first.locator("svg.traffic-chart .tps-line")).to_have_count(1)
        await expect(first.locator("path.bar-accepted")).to_have_attribute("d", DRAWN)
        assert await first.locator("path.bar-7103").get_attribute("d") is None

        # more than the contract over plain HTTP: the chart follows, 7103s stack on top
        codes = [
            (await post_mm7(session, rig.mmsc.url, lgt_submit(vas_id="VAS01"))).status_code
            for _ in range(5)
        ]
        assert 7103 in codes, codes
        accepted = 1 + codes.count(1000)
        await expect(first.locator(".t-accepted")).to_have_text(str(accepted))
        await expect(first.locator(".t-7103")).to_have_text(str(codes.count(7103)))
        await expect(first.locator("path.bar-7103")).to_have_attribute("d", DRAWN)

        # a 4030 window opened with the admin API is shaded, its 4030 answers drawn in it
        async with session.post(f"{api}/overload", json={"vas_id": "VAS02", "seconds": 600}) as rsp:
            assert rsp.status == 201  # 60 s at the rig's time scale of 0.1
        second = card(page, "VAS02")
        window = second.locator("rect.overload-window")
        await expect(window).to_have_count(1)
        await expect(window).to_have_class("overload-window open")
        box = await drawn_box(window)
        assert box["width"] > 0 and box["height"] > 50, box
        await expect(first.locator("rect.overload-window")).to_have_count(0)  # its own only
        async with rig.connect("VAS02") as overloaded:
            refused = await overloaded.submit(
                SubmitRequest(to=["01012345678"], subject="과부하", content=[Part.from_text("x")])
            )
        assert refused.status is not None and refused.status.code == "4030", refused
        await expect(second.locator(".t-4030")).to_have_text("1")
        await expect(second.locator("path.bar-4030")).to_have_attribute("d", DRAWN)
        await expect(second.locator(".traffic-head")).to_contain_text("no contract")

        # closed: still shaded, as a window of the past
        async with session.delete(f"{api}/overload") as rsp:
            assert rsp.status == 200
        await expect(window).to_have_class("overload-window")
        # a window for every VASID shades every chart
        async with session.post(f"{api}/overload", json={"seconds": 600}) as rsp:
            assert rsp.status == 201
        await expect(first.locator("rect.overload-window.every")).to_have_count(1)
        await expect(page.locator(".traffic .notice")).to_have_text(
            "A 4030 window is open for every VASID."
        )

        # a hostile VASID is text, nothing built from it
        await post_mm7(session, rig.mmsc.url, lgt_submit(vas_id=HOSTILE_VAS_ID))
    hostile = page.locator(".traffic-card .traffic-vas", has_text="onerror")
    await expect(hostile).to_have_text(HOSTILE_VAS_ID)
    assert await page.locator('img[src="x"]').count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]

    # a shorter span, and the same document all along (live, never reloaded)
    await page.click('button[data-span="60"]')
    await expect(page.locator('button[data-span="60"]')).to_have_class("btn btn-small span active")
    await expect(first.locator("text.axis-label", has_text="−50 s")).to_have_count(1)
    await expect(first.locator(".t-accepted")).to_have_text(str(accepted))
    assert await page.evaluate("window.__sameDocument") is True
    assert console_errors == []


@pytest.mark.parametrize("rig", [1.0], indirect=True)
async def test_the_header_shows_no_stray_null_at_the_default_time_scale(
    page: Page, rig: Rig
) -> None:
    await open_page(page, rig)
    endpoint = page.locator("#endpoint")
    await expect(endpoint).to_contain_text(f"POST {rig.mmsc.url}")
    await expect(endpoint.locator(".pill")).to_have_text(["lgt"])  # no time-scale pill
    assert "null" not in await endpoint.inner_text()


async def test_the_header_shows_a_time_scale_other_than_one(page: Page, rig: Rig) -> None:
    await open_page(page, rig)
    await expect(page.locator("#endpoint .pill")).to_have_text(["lgt", "time ×0.1"])
    assert "null" not in await page.locator("#endpoint").inner_text()


async def test_the_list_pages_back_past_the_newest_500(page: Page, rig: Rig) -> None:
    total = 520
    async with aiohttp.ClientSession() as session:
        for start in range(0, total, 40):  # 40 at a time, bounded
            answers = await asyncio.gather(
                *(
                    post_mm7(
                        session,
                        rig.mmsc.url,
                        lgt_submit(f"0101000{i:04d}", subject=f"메시지 {i}", delivery_report=False),
                    )
                    for i in range(start, min(total, start + 40))
                )
            )
            assert {a.status_code for a in answers} == {1000}
        ids = [m.id for m in rig.mmsc.messages]
        await open_page(page, rig)
        rows = page.locator("#rows tr")
        await expect(rows).to_have_count(500)
        await expect(page.locator("#pager")).to_be_visible()
        await expect(page.locator("#page-info")).to_have_text(f"1–500 of {total}")
        await expect(page.locator("#page-newer")).to_be_disabled()

        await page.click("#page-older")
        await expect(rows).to_have_count(total - 500)
        await expect(page.locator("#page-info")).to_have_text(f"501–{total} of {total}")
        await expect(page.locator("#page-older")).to_be_disabled()
        shown = [int(i) for i in await rows.evaluate_all("rs => rs.map(r => r.dataset.id)")]
        assert shown == sorted(ids)[: total - 500][::-1]  # the oldest, newest first

        # a new message while looking back: this page stays, only its position moves
        await post_mm7(session, rig.mmsc.url, lgt_submit(subject="새 메시지"))
        await expect(page.locator("#page-info")).to_have_text(f"502–{total + 1} of {total + 1}")
        await expect(rows).to_have_count(total - 500)
        assert await page.locator("#rows tr.new").count() == 0

    await page.click("#page-newer")
    await expect(page.locator("#page-info")).to_have_text(f"1–500 of {total + 1}")
    await expect(rows.first.locator(".c-subject")).to_contain_text("새 메시지")
    await page.click("#page-older")
    await expect(page.locator("#page-info")).to_have_text(f"501–{total + 1} of {total + 1}")
    await page.click("#page-newest")
    await expect(page.locator("#page-info")).to_have_text(f"1–500 of {total + 1}")
    # a filter starts again from the newest page
    await page.click("#page-older")
    await page.fill("#f-q", "메시지")
    await expect(page.locator("#page-info")).to_have_text(f"1–500 of {total + 1}")
