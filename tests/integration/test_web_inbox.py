"""The web inbox's server side over loopback: the event stream, the page's headers, the views
it reads, and that attacker-controlled data is never turned into markup."""

from __future__ import annotations

import asyncio
import json
import re
from importlib import resources
from typing import Any

import aiohttp
import pytest

import mockmmsc.api as api
import mockmmsc.views as views
from mm7client import Part, SubmitRequest, encode, get_profile
from mockmmsc import MockMMSC
from mockmmsc.store import ReportRecord

LGT = get_profile("lgt")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")  # just the markers


def submit(subject: str = "안녕하세요", **fields: Any) -> SubmitRequest:
    values: dict[str, Any] = {
        "to": ["01012345678"],
        "vasp_id": "VASP",
        "vas_id": "VAS1",
        "callback": "15881234",
        "kisa_orig_code": "123456789",
        "subject": subject,
        "content": [Part.from_text("본문입니다")],
    }
    values.update(fields)
    return SubmitRequest(**values)


async def send(session: aiohttp.ClientSession, mmsc: MockMMSC, request: SubmitRequest) -> None:
    encoded = encode(request, LGT)
    async with session.post(mmsc.url, data=encoded.body, headers=encoded.headers) as response:
        assert response.status == 200, await response.text()


async def next_data(stream: aiohttp.StreamReader, timeout: float = 5.0) -> dict[str, Any]:
    """The next ``data:`` event of a server-sent event stream (comments skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            line = await stream.readline()
            assert line, "the event stream ended"
            if line.startswith(b"data: "):
                event: dict[str, Any] = json.loads(line[6:])
                assert await stream.readline() == b"\n"
                return event


@pytest.mark.asyncio
async def test_event_stream_sends_requests_reports_and_deletions(mmsc: MockMMSC) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(mmsc.base_url + "/api/events") as events,
    ):
        assert events.status == 200
        assert events.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert events.headers["Cache-Control"] == "no-cache"
        assert await events.content.readline() == b"retry: 2000\n"
        assert await events.content.readline() == b": connected\n"

        await send(session, mmsc, submit("첫 메시지"))
        event = await next_data(events.content)
        assert event["type"] == "request"
        row = event["message"]
        assert row["subject"] == "첫 메시지"
        assert row["sender"] == "15881234"
        assert row["status_code"] == 1000
        assert row["normalized"]["category"] == "success"
        assert row["report_state"]["state"] == "none"

        mmsc.store.add_report(
            ReportRecord(
                id="r1", message_id="m1", recipient="01012345678", mm_status="Retrieved",
                status_text="OK", request_id=row["id"],
            )
        )  # fmt: skip
        event = await next_data(events.content)
        assert event["type"] == "report"
        assert event["report"]["request_id"] == row["id"]
        assert event["report"]["pending"] is True

        async with session.delete(f"{mmsc.base_url}/api/messages/{row['id']}") as deleted:
            assert deleted.status == 200
        assert await next_data(events.content) == {"type": "deleted", "id": row["id"]}
        async with session.post(
            mmsc.base_url + "/api/overload", json={"vas_id": "VAS1", "seconds": 1}
        ) as started:
            assert started.status == 201
        assert await next_data(events.content) == {
            "type": "overload",
            "vas_id": "VAS1",
            "seconds": 1,
        }


@pytest.mark.asyncio
async def test_idle_stream_gets_heartbeats(mmsc: MockMMSC, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "HEARTBEAT_SECONDS", 0.05)
    async with (
        aiohttp.ClientSession() as session,
        session.get(mmsc.base_url + "/api/events") as events,
    ):
        lines = [await events.content.readline() for _ in range(3)]
        assert lines == [b"retry: 2000\n", b": connected\n", b"\n"]
        async with asyncio.timeout(5):
            assert await events.content.readline() == b": ping\n"
            assert await events.content.readline() == b"\n"
            assert await events.content.readline() == b": ping\n"


@pytest.mark.asyncio
async def test_disconnected_clients_are_unsubscribed(
    mmsc: MockMMSC, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "HEARTBEAT_SECONDS", 0.05)
    subscribers = mmsc.store._subscribers
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            response = await session.get(mmsc.base_url + "/api/events")
            assert await response.content.readline() == b"retry: 2000\n"
        assert len(subscribers) == 3
    # the session is closed: each stream notices at its next write (a heartbeat at the latest)
    assert await mmsc.store.wait_until(lambda: len(subscribers) == 0, timeout=5)
    async with aiohttp.ClientSession() as session:
        await send(session, mmsc, submit())  # publishing to nobody still works
    assert len(mmsc.messages) == 1


@pytest.mark.asyncio
async def test_open_streams_end_when_the_mock_stops() -> None:
    from mockmmsc import MockSettings

    mock = MockMMSC(MockSettings(host="127.0.0.1", port=0))
    await mock.start()
    async with aiohttp.ClientSession() as session:
        events = await session.get(mock.base_url + "/api/events")
        assert await events.content.readline() == b"retry: 2000\n"
        async with asyncio.timeout(10):  # far below aiohttp's 60 s shutdown grace
            await mock.stop()
            assert await events.content.read() == b": connected\n\n"
    assert mock.store._subscribers == set()


@pytest.mark.asyncio
async def test_too_many_streams_get_503(mmsc: MockMMSC, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "MAX_EVENT_STREAMS", 1)
    async with aiohttp.ClientSession() as session:
        first = await session.get(mmsc.base_url + "/api/events")
        assert first.status == 200
        async with session.get(mmsc.base_url + "/api/events") as second:
            assert second.status == 503
            assert "too many event streams" in (await second.json())["error"]
        first.close()


@pytest.mark.asyncio
async def test_page_has_a_strict_content_security_policy(mmsc: MockMMSC) -> None:
    async with aiohttp.ClientSession() as session:
        for path, content_type in (
            ("/", "text/html"),
            ("/static/app.js", "text/javascript"),
            ("/static/app.css", "text/css"),
        ):
            async with session.get(mmsc.base_url + path) as response:
                assert response.status == 200
                assert response.content_type == content_type
                csp = response.headers["Content-Security-Policy"]
                assert "default-src 'self'" in csp
                assert "img-src 'self' data: blob:" in csp
                assert "script-src 'self'" in csp and "unsafe" not in csp
                assert response.headers["X-Content-Type-Options"] == "nosniff"
        async with session.get(mmsc.base_url + "/static/secrets.py") as missing:
            assert missing.status == 404
        async with session.get(mmsc.base_url + "/static/index.html") as shell:
            assert shell.status == 404
        # POST / is still the MM7 endpoint
        await send(session, mmsc, submit())
    assert len(mmsc.messages) == 1


def test_page_never_builds_markup_from_strings() -> None:
    files = resources.files("mockmmsc.inbox")
    script = files.joinpath("app.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, f"app.js uses {sink}"
    assert "new Function" not in script
    assert re.search(r"setTimeout\(\s*[\"'`]", script) is None
    page = files.joinpath("index.html").read_text("utf-8")
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, "inline script in index.html"
    assert re.search(r"<[^>]+\son[a-z]+=", page) is None, "inline event handler in index.html"
    assert "http://" not in page and "https://" not in page, "the page fetches nothing external"


HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.mark.asyncio
async def test_views_return_hostile_data_verbatim_as_json(mmsc: MockMMSC) -> None:
    request = submit(
        HOSTILE,
        content=[
            Part.jpeg(JPEG, filename="<svg onload=alert(2)>.jpg"),
            Part.from_text("<script>alert(3)</script>"),
        ],
    )
    async with aiohttp.ClientSession() as session:
        await send(session, mmsc, request)
        message_id = mmsc.messages[0].id
        async with session.get(mmsc.base_url + "/api/messages") as listed:
            assert listed.content_type == "application/json"
            rows = (await listed.json())["messages"]
        assert rows[0]["subject"] == HOSTILE
        async with session.get(f"{mmsc.base_url}/api/messages/{message_id}") as shown:
            assert shown.content_type == "application/json"
            detail = await shown.json()
        assert detail["subject"] == HOSTILE
        texts = [p["text"] for p in detail["parts"] if p["kind"] == "text"]
        assert texts == ["<script>alert(3)</script>"]
        image = next(p for p in detail["parts"] if p["kind"] == "image")
        assert image["filename"] == "<svg onload=alert(2)>.jpg"
        # a download is never rendered: attachment, opaque type, sandboxed
        async with session.get(mmsc.base_url + image["download_url"]) as download:
            assert await download.read() == JPEG
            assert download.headers["Content-Type"] == "application/octet-stream"
            disposition = download.headers["Content-Disposition"]
            assert disposition.startswith('attachment; filename="svgonloadalert2.jpg"; ')
            assert "filename*=UTF-8''%3Csvg%20onload%3Dalert%282%29%3E.jpg" in disposition
            assert download.headers["Content-Security-Policy"].startswith("sandbox")
            assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.asyncio
async def test_message_view_has_slides_envelope_and_http_request(mmsc: MockMMSC) -> None:
    request = submit(
        "사진",
        delivery_report=True,
        content=[
            Part.from_text("첫 장"),
            Part.jpeg(JPEG, filename="a.jpg"),
            Part.jpeg(JPEG, filename="b.jpg"),
            Part.from_text("둘째 장"),
        ],
    )
    async with aiohttp.ClientSession() as session:
        await send(session, mmsc, request)
        item = mmsc.messages[0]
        async with session.get(f"{mmsc.base_url}/api/messages/{item.id}") as shown:
            detail = await shown.json()
    parts = detail["parts"]
    slides = [[parts[i["part"]]["filename"] or parts[i["part"]]["text"] for i in s["items"]]
              for s in detail["presentation"]["slides"]]  # fmt: skip
    assert detail["presentation"]["from_smil"] is True
    assert slides == [["첫 장", "a.jpg"], ["b.jpg", "둘째 장"]]
    assert detail["presentation"]["attachments"] == []
    assert detail["report_state"]["state"] == "undeliverable"  # no report URL: never sent
    envelope = detail["soap_envelope"]["text"]
    assert "<mm7:SubmitReq" in envelope or "SubmitReq" in envelope
    assert "사진" in envelope and "--" not in envelope[:5]
    http = detail["http_request"]
    assert http["head_recorded"] is True
    assert http["head"].startswith("POST /mm7 HTTP/1.1\r\n")
    assert "\r\nContent-Type: multipart/related;" in http["head"]
    assert http["size"] == len(item.raw_body)
    assert "사진" in http["body"]


@pytest.mark.asyncio
async def test_filters(mmsc: MockMMSC) -> None:
    async with aiohttp.ClientSession() as session:
        await send(session, mmsc, submit("하나", vas_id="VAS-A", to=["01011112222"]))
        await send(session, mmsc, submit("둘", vas_id="VAS-B", to=["01099994030"]))
        await send(session, mmsc, submit("셋", vas_id="VAS-A", to=["01033334444"]))

        async def subjects(query: str) -> list[str]:
            async with session.get(f"{mmsc.base_url}/api/messages?{query}") as response:
                assert response.status == 200, await response.text()
                return [m["subject"] for m in (await response.json())["messages"]]

        assert await subjects("") == ["셋", "둘", "하나"]
        assert await subjects("vas_id=vas-a") == ["셋", "하나"]
        assert await subjects("status_code=4030") == ["둘"]
        assert await subjects("recipient=3333") == ["셋"]
        assert await subjects("q=VAS-B") == ["둘"]
        assert await subjects("since=2999-01-01T00:00:00Z") == []
        assert await subjects("until=2000-01-01T00:00:00%2B09:00") == []
        assert await subjects("since=2000-01-01T00:00:00&until=2999-01-01") == ["셋", "둘", "하나"]
        assert await subjects("limit=1&offset=1") == ["둘"]
        for bad in ("status_code=abc", "since=yesterday", "limit=-1", "limit=100000"):
            async with session.get(f"{mmsc.base_url}/api/messages?{bad}") as response:
                assert response.status == 400
                assert bad.split("=")[0] in (await response.json())["error"]
        async with session.get(f"{mmsc.base_url}/api/messages/999") as response:
            assert response.status == 404
        async with session.get(f"{mmsc.base_url}/api/messages/abc") as response:
            assert response.status == 400


def test_report_state() -> None:
    def record(**fields: Any) -> ReportRecord:
        return ReportRecord(id="r", message_id="m", recipient="010", mm_status="Retrieved",
                            status_text="OK", **fields)  # fmt: skip

    assert views.report_state([], requested=False)["state"] == "none"
    assert views.report_state([], requested=True)["state"] == "pending"
    assert views.report_state([record()], requested=True)["state"] == "pending"
    assert views.report_state([record(attempts=1)], requested=True)["state"] == "sent"
    acked = record(attempts=1, acknowledged=True)
    assert views.report_state([acked, record(attempts=2)], requested=True)["state"] == "sent"
    assert views.report_state([acked, acked], requested=True)["state"] == "acknowledged"
    failed = record(attempts=5, given_up=True, last_error="HTTP 500")
    state = views.report_state([acked, failed], requested=True)
    assert (state["state"], state["last_error"]) == ("failed", "HTTP 500")
