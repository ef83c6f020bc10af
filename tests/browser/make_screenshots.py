"""Take the README's screenshots of the web inbox: ``docs/screenshots/inbox.png``,
``docs/screenshots/message.png`` and ``docs/screenshots/traffic.png``.

Runs the real mock MMSC, a report receiver and the real client on 127.0.0.1, sends a few
Korean MMS (one with a photo drawn by the browser), and photographs the page in headless
Chromium; then drives about 45 seconds of traffic over plain HTTP at two VASIDs (one above its
TPS contract, one through a 4030 window) and photographs the traffic view. Usage, from the
repository root::

    .venv/bin/python tests/browser/make_screenshots.py [OUTPUT_DIR]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
from inbox_rig import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, make_jpeg, running_rig
from playwright.async_api import Browser, async_playwright, expect

from mm7client import Part, SubmitRequest
from mockmmsc import MockMMSC
from mockmmsc.testing import lgt_submit, post_mm7

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1440, "height": 860}


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            async with running_rig(time_scale=0.05) as rig:
                photo = await make_jpeg(browser, "봄맞이 세일", width=480, height=320, hue=195)
                sends = [
                    (
                        "VAS01",
                        SubmitRequest(
                            to=["01012345678"],
                            subject="[광고] 봄맞이 할인 안내",
                            delivery_report=True,
                            content=[
                                Part.jpeg(photo, filename="spring-sale.jpg"),
                                Part.from_text(
                                    "안녕하세요, 고객님!\n봄맞이 특별 할인이 시작되었습니다.\n"
                                    "전 품목 최대 30% 할인, 이번 주 일요일까지.\n"
                                    "무료 수신거부 080-123-4567"
                                ),
                            ],
                        ),
                    ),
                    (
                        "VAS02",
                        SubmitRequest(
                            to=["01098765432"],
                            subject="배송 출발 안내",
                            delivery_report=True,
                            content=[Part.from_text("주문하신 상품이 오늘 출발했습니다.")],
                        ),
                    ),
                    (
                        "VAS02",
                        SubmitRequest(
                            to=["01088880004"],
                            subject="예약 확인",
                            delivery_report=True,
                            content=[Part.from_text("예약이 확정되었습니다.")],
                        ),
                    ),
                    (
                        "VAS03",
                        SubmitRequest(
                            to=["01055557777"],
                            subject="이벤트 당첨 안내",
                            content=[Part.from_text("축하합니다!")],
                        ),
                    ),
                    (
                        "VAS01",
                        SubmitRequest(
                            to=["01099996014"],
                            subject="결제 완료",
                            content=[Part.from_text("결제가 완료되었습니다.")],
                        ),
                    ),
                ]
                rig.mmsc.overload(600, vas_id="VAS03")
                for vas_id, request in sends:
                    async with rig.connect(vas_id) as client:
                        await client.submit(request)
                newest = rig.mmsc.messages[-1].id
                first = rig.mmsc.messages[0].id
                await rig.mmsc.wait_for_reports(3, timeout=10, acknowledged=False)
                await rig.mmsc.wait_for_reports(2, timeout=10)

                context = await browser.new_context(viewport=VIEWPORT, locale="ko-KR")
                context.set_default_timeout(TIMEOUT_MS)
                page = await context.new_page()
                await page.goto(f"{rig.mmsc.base_url}/#/controls")
                await page.wait_for_selector(f'#rows tr[data-id="{newest}"]')
                await page.wait_for_selector("#ov-windows li")
                await page.wait_for_selector('#live[data-state="live"]')
                await page.screenshot(path=str(out / "inbox.png"))

                await page.goto(f"{rig.mmsc.base_url}/#/m/{first}")
                await page.wait_for_selector(".phone .slide-image")
                image = page.locator(".phone .slide-image").first
                await expect(image).to_have_js_property("complete", True)
                assert await image.evaluate("img => img.naturalWidth") > 0
                await page.wait_for_selector(".c-report .rep-acknowledged")
                await page.screenshot(path=str(out / "message.png"))
                await context.close()
            async with running_rig(time_scale=0.05) as rig:
                await traffic_screenshot(browser, rig.mmsc, out / "traffic.png")
        finally:
            await browser.close()
    for name in ("inbox.png", "message.png", "traffic.png"):
        path = out / name
        print(f"{path}: {path.stat().st_size // 1024} KB")


async def traffic_screenshot(browser: Browser, mmsc: MockMMSC, path: Path) -> None:
    """About 45 s of traffic: VAS01 ramps from 2 to 9 requests a second against a contract of
    5 TPS (the rest get 7103); VAS02 sends 3 a second and goes through a 4030 window of 15 s."""
    mmsc.set_tps("VAS01", 5)
    context = await browser.new_context(viewport=VIEWPORT, locale="ko-KR")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(f"{mmsc.base_url}/#/traffic")
    await page.click('button[data-span="60"]')
    bodies = {
        vas: lgt_submit("01012345678", vas_id=vas, subject="트래픽") for vas in ("VAS01", "VAS02")
    }
    async with aiohttp.ClientSession() as session:
        sends: list[asyncio.Task[object]] = []
        for second in range(45):
            if second == 18:  # 15 real seconds at the time scale of 0.05
                mmsc.overload(300, vas_id="VAS02")
            rate = {"VAS01": 2 + second * 7 // 44, "VAS02": 3}
            for vas, count in rate.items():
                for _ in range(count):
                    sends.append(asyncio.create_task(post_mm7(session, mmsc.url, bodies[vas])))
            await asyncio.sleep(1.0)
        await asyncio.gather(*sends)
    await page.wait_for_selector(".traffic-card .overload-window")
    await page.wait_for_timeout(1500)  # one more refresh of the chart
    await page.screenshot(path=str(path))
    await context.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    asyncio.run(main(target))
