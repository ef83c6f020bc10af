"""End-to-end tests of the web inbox in headless Chromium, with the real client and mock."""

from __future__ import annotations

import pytest
from inbox_rig import TIMEOUT_MS, Rig, make_jpeg
from playwright.async_api import Browser, Page, expect

from mm7client import Part, SubmitRequest
from mm7client.codes import Category

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
expect.set_options(timeout=TIMEOUT_MS)

KOREAN_SUBJECT = "[광고] 봄맞이 할인 안내"
KOREAN_TEXT = (
    "안녕하세요, 고객님!\n봄맞이 특별 할인이 시작되었습니다.\n자세한 내용은 매장에 문의해 주세요."
)
SECOND_TEXT = "두 번째 장: 사진과 함께 보내 드립니다."


async def open_inbox(page: Page, rig: Rig, fragment: str = "") -> None:
    response = await page.goto(rig.mmsc.base_url + "/" + fragment)
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data: blob:" in csp
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")


async def test_messages_appear_live_and_render_like_a_phone(
    page: Page, rig: Rig, browser: Browser
) -> None:
    photo = await make_jpeg(browser, "MM7 봄", hue=200)
    second_photo = await make_jpeg(browser, "사진 2", hue=20)
    await open_inbox(page, rig)
    await expect(page.locator("#empty")).to_be_visible()
    await page.evaluate("window.__sameDocument = true")

    result = await rig.client.submit(
        SubmitRequest(
            to=["01012345678"],
            subject=KOREAN_SUBJECT,
            delivery_report=True,
            content=[
                Part.jpeg(photo, filename="spring.jpg"),
                Part.from_text(KOREAN_TEXT),
                Part.jpeg(second_photo, filename="photo2.jpg"),
                Part.from_text(SECOND_TEXT),
            ],
        )
    )
    assert result.normalized.category is Category.SUCCESS, result
    rows = page.locator("#rows tr")
    await expect(rows).to_have_count(1)
    plain = await rig.client.submit(
        SubmitRequest(to=["01055556666"], subject="텍스트만", content=[Part.from_text("짧은 글")])
    )
    assert plain.normalized.category is Category.SUCCESS
    await expect(rows).to_have_count(2)
    # newest first, and no reload happened (the same document saw both arrive)
    await expect(rows.nth(0).locator(".c-subject")).to_contain_text("텍스트만")
    first = rows.nth(1)
    await expect(first.locator(".c-subject")).to_contain_text(KOREAN_SUBJECT)
    await expect(first.locator(".c-vas")).to_have_text("VAS01")
    await expect(first.locator(".c-from")).to_have_text("from 15881234")
    await expect(first.locator(".c-to")).to_have_text("01012345678")
    await expect(first.locator(".c-status .badge")).to_have_text("1000")
    await expect(first.locator(".c-status .badge")).to_have_class("badge cat-success")
    await expect(first.locator(".c-status .meaning")).to_have_text("Success")
    assert await page.evaluate("window.__sameDocument") is True

    # delivery reports go to the receiver and are acknowledged; the row follows live
    await rig.mmsc.wait_for_reports(1, timeout=10)
    await expect(first.locator(".c-report .badge")).to_have_text("acknowledged")
    await expect(first.locator(".c-report .sub")).to_have_text("Retrieved")

    await first.click()
    await expect(page).to_have_url(f"{rig.mmsc.base_url}/#/m/{rig.mmsc.messages[0].id}")
    await expect(page.locator("#detail-subject")).to_have_text(KOREAN_SUBJECT)
    images = page.locator(".phone .slide-image")
    await expect(images).to_have_count(2)
    for index in range(2):
        await expect(images.nth(index)).to_have_js_property("complete", True)
        width = await images.nth(index).evaluate("img => img.naturalWidth")
        assert width == 480, f"image {index} did not render (naturalWidth {width})"
    texts = page.locator(".phone .slide-text")
    await expect(texts).to_have_count(2)
    assert await texts.nth(0).text_content() == KOREAN_TEXT
    assert await texts.nth(1).text_content() == SECOND_TEXT
    slides = page.locator(".phone .slide")
    await expect(slides).to_have_count(2)
    # slide order: image then its text, as the SMIL says
    assert await slides.nth(0).locator(".slide-image").get_attribute("alt") == "spring.jpg"
    assert await slides.nth(1).locator(".slide-image").get_attribute("alt") == "photo2.jpg"
    await expect(page.locator(".result-card .explanation")).to_have_text(
        "메시지가 성공적으로 처리 되었음"
    )

    # the attachment downloads byte for byte
    link = page.locator(".parts-list a", has_text="Download").nth(1)
    href = await link.get_attribute("href")
    assert href is not None
    download = await page.request.get(rig.mmsc.base_url + href)
    assert download.headers["content-disposition"].startswith("attachment;")
    assert await download.body() == photo

    await page.locator('.tab[data-tab="fields"]').click()
    await expect(page.locator(".kv")).to_contain_text("kisa_orig_code")
    await expect(page.locator(".kv")).to_contain_text("123456789")
    await page.locator('.tab[data-tab="soap"]').click()
    await expect(page.locator("pre.code")).to_contain_text("SubmitReq")
    await expect(page.locator("pre.code")).to_contain_text(KOREAN_SUBJECT)
    await page.locator('.tab[data-tab="http"]').click()
    await expect(page.locator("pre.code")).to_contain_text("POST /mm7 HTTP/1.1")
    await expect(page.locator("pre.code")).to_contain_text("Content-Type: multipart/related")
    await page.locator('.tab[data-tab="reports"]').click()
    await expect(page.locator(".report-row")).to_have_count(1)
    await expect(page.locator(".report-row")).to_contain_text("Retrieved")
    await expect(page.locator(".report-row .rep-acknowledged")).to_have_count(1)


HOSTILE_SUBJECT = "<img src=x onerror=alert(1)>"
HOSTILE_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE_NAME = "<script>alert(3)</script>.txt"


async def test_hostile_subject_text_and_file_name_are_shown_as_text(
    page: Page, rig: Rig, browser: Browser
) -> None:
    photo = await make_jpeg(browser, "<b>x</b>")
    await open_inbox(page, rig)
    result = await rig.client.submit(
        SubmitRequest(
            to=["01012345678"],
            subject=HOSTILE_SUBJECT,
            content=[
                Part.jpeg(photo, filename="<img src=x onerror=alert(4)>.jpg"),
                Part.from_text(HOSTILE_TEXT),
                Part.from_text("<b>bold?</b>", filename=HOSTILE_NAME),
            ],
        )
    )
    assert result.normalized.category is Category.SUCCESS, result
    row = page.locator("#rows tr").first
    await expect(row.locator(".subject-text")).to_have_text(HOSTILE_SUBJECT)
    await row.click()
    await expect(page.locator("#detail-subject")).to_have_text(HOSTILE_SUBJECT)
    await expect(page.locator(".phone .mms-subject")).to_have_text(HOSTILE_SUBJECT)
    texts = page.locator(".phone .slide-text")
    await expect(texts.first).to_have_text(HOSTILE_TEXT)
    await expect(page.locator(".parts-list .part-name", has_text="alert(3)")).to_have_text(
        HOSTILE_NAME
    )
    await expect(page.locator(".phone .slide-image")).to_have_attribute(
        "alt", "<img src=x onerror=alert(4)>.jpg"
    )
    await page.locator('.tab[data-tab="soap"]').click()
    await expect(page.locator("pre.code")).to_contain_text("&lt;img src=x onerror=alert(1)&gt;")

    # nothing ran: no dialog, no marker, no element built from the data
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator('img[src="x"]').count() == 0
    scripts = await page.evaluate("[...document.scripts].map(s => s.src)")
    assert scripts == [rig.mmsc.base_url + "/static/app.js"]
    assert await page.locator("#detail b").count() == 0


async def test_overload_tps_and_rule_from_the_page(page: Page, rig: Rig) -> None:
    await open_inbox(page, rig, "#/controls")
    await page.fill("#ov-vas", "VAS-OVL")
    await page.fill("#ov-seconds", "60")  # x time scale 0.1: a 6 s window
    await page.click("#ov-start")
    await expect(page.locator("#ov-notice")).to_have_text("4030 window started for VASID VAS-OVL.")
    await expect(page.locator("#ov-windows li")).to_contain_text("VASID VAS-OVL")

    async with rig.connect("VAS-OVL") as overloaded:
        refused = await overloaded.submit(
            SubmitRequest(to=["01012345678"], subject="과부하", content=[Part.from_text("본문")])
        )
    assert refused.status is not None and refused.status.code == "4030", refused
    assert refused.normalized.category is Category.THROTTLED
    # another VASID is not affected
    other = await rig.client.submit(
        SubmitRequest(to=["01012345678"], subject="정상", content=[Part.from_text("본문")])
    )
    assert other.normalized.category is Category.SUCCESS

    await page.fill("#tps-vas", "VAS-TPS")
    await page.fill("#tps-value", "5")
    await page.click("#tps-set")
    await expect(page.locator("#tps-list")).to_contain_text("VAS-TPS · 5 TPS")
    assert rig.mmsc.tps.contracts()["VAS-TPS"] == 5

    await page.fill("#rule-recipient", "01077770000")
    await page.fill("#rule-status", "4006")
    await page.click("#rule-add")
    await expect(page.locator("#rule-notice")).to_contain_text("added")
    await expect(page.locator("#rule-list li")).to_contain_text("recipient=01077770000")
    ruled = await rig.client.submit(
        SubmitRequest(to=["01077770000"], subject="규칙", content=[Part.from_text("본문")])
    )
    assert ruled.status is not None and ruled.status.code == "4006", ruled

    # end the window from the page: the VASID is accepted again
    await page.click("#ov-end")
    await expect(page.locator("#ov-windows li")).to_have_count(0)
    async with rig.connect("VAS-OVL") as recovered:
        accepted = await recovered.submit(
            SubmitRequest(to=["01012345678"], subject="복구", content=[Part.from_text("본문")])
        )
    assert accepted.normalized.category is Category.SUCCESS, accepted

    # the refused request is in the inbox with its meaning
    await page.goto(rig.mmsc.base_url + "/")
    await page.fill("#f-status", "4030")
    rows = page.locator("#rows tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".c-status .badge")).to_have_class("badge cat-throttled")
    await expect(rows.first.locator(".c-status .meaning")).to_have_text("System error")
    await expect(rows.first.locator(".c-vas")).to_have_text("VAS-OVL")


async def test_filters_and_delete(page: Page, rig: Rig) -> None:
    for vas_id, number, subject in (
        ("VAS-A", "01011112222", "첫째"),
        ("VAS-B", "01033334444", "둘째"),
        ("VAS-A", "01099996014", "셋째"),  # magic number: answered 6014
    ):
        async with rig.connect(vas_id) as client:
            await client.submit(
                SubmitRequest(to=[number], subject=subject, content=[Part.from_text("본문")])
            )
    await open_inbox(page, rig)
    rows = page.locator("#rows tr")
    await expect(rows).to_have_count(3)
    await expect(page.locator("#count")).to_have_text("3 messages")

    await page.fill("#f-vas", "VAS-A")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#count")).to_have_text("2 of 3 messages")
    await page.fill("#f-status", "6014")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".c-subject")).to_contain_text("셋째")
    await page.click("#filters button[type=reset]")
    await expect(rows).to_have_count(3)
    await page.fill("#f-recipient", "3333")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".c-to")).to_have_text("01033334444")
    await page.fill("#f-recipient", "")
    await page.fill("#f-q", "둘째")
    await expect(rows).to_have_count(1)
    await page.fill("#f-q", "")
    await page.fill("#f-since", "2999-01-01T00:00:00")
    await expect(rows).to_have_count(0)
    await expect(page.locator("#empty")).to_contain_text("No message matches")
    await page.fill("#f-since", "2000-01-01T00:00:00")
    await page.fill("#f-until", "2999-01-01T00:00:00")
    await expect(rows).to_have_count(3)
    await page.click("#filters button[type=reset]")

    # delete one from its view, then every message (after a confirmation)
    await rows.filter(has_text="둘째").click()
    await expect(page.locator("#detail-subject")).to_have_text("둘째")
    await page.click("#btn-delete")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#detail .placeholder")).to_be_visible()
    assert [m.subject for m in rig.mmsc.messages] == ["첫째", "셋째"]
    await page.click("#btn-delete-all")
    await expect(rows).to_have_count(0)
    await expect(page.locator("#empty")).to_contain_text("No messages yet")
    assert rig.mmsc.messages == []
    assert page.dialogs == ["confirm: Delete every received message?"]  # type: ignore[attr-defined]
