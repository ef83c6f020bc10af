"""The admin JSON API, the CLI and the event bus over loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import aiohttp
import pytest
import pytest_asyncio

from mm7client.model import Part
from mockmmsc import MockMMSC
from mockmmsc.testing import lgt_submit, post_mm7


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.asyncio
async def test_messages_list_get_parts_delete(mmsc: MockMMSC, session):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    await post_mm7(
        session,
        mmsc.url,
        lgt_submit(
            "01012345678", content=[Part.from_text("본문"), Part.jpeg(jpeg, filename="a.jpg")]
        ),
    )
    await post_mm7(session, mmsc.url, lgt_submit("01099994030"))
    api = mmsc.base_url + "/api"
    async with session.get(f"{api}/messages") as rsp:
        listing = await rsp.json()
    assert listing["total"] == 2
    assert [m["status_code"] for m in listing["messages"]] == [4030, 1000]  # newest first
    first_id = listing["messages"][1]["id"]
    async with session.get(f"{api}/messages/{first_id}") as rsp:
        detail = await rsp.json()
    assert detail["fields"]["to"] == ["01012345678"] and detail["fields"]["vas_id"] == "VAS001"
    parts = {p["content_type"]: p for p in detail["parts"]}
    assert parts["text/plain"]["text"] == "본문"
    async with session.get(mmsc.base_url + parts["image/jpeg"]["url"]) as rsp:
        assert rsp.content_type == "image/jpeg" and await rsp.read() == jpeg
    async with session.get(f"{api}/messages?status_code=4030") as rsp:
        assert (await rsp.json())["total"] == 1
    async with session.delete(f"{api}/messages/{first_id}") as rsp:
        assert rsp.status == 200
    async with session.get(f"{api}/messages/{first_id}") as rsp:
        assert rsp.status == 404 and "no message" in (await rsp.json())["error"]
    async with session.delete(f"{api}/messages") as rsp:
        assert (await rsp.json())["deleted"] == 1
    assert mmsc.messages == []


@pytest.mark.asyncio
async def test_rules_overload_tps_over_the_api(mmsc: MockMMSC, session):
    api = mmsc.base_url + "/api"
    async with session.post(
        f"{api}/rules", json={"recipient": "01011112222", "status": 6014, "times": 1}
    ) as rsp:
        assert rsp.status == 201
        rule_id = (await rsp.json())["ids"][0]
    async with session.get(f"{api}/rules") as rsp:
        assert [r["id"] for r in (await rsp.json())["rules"]] == [rule_id]
    assert (await post_mm7(session, mmsc.url, lgt_submit("01011112222"))).status_code == 6014
    async with session.delete(f"{api}/rules/{rule_id}") as rsp:
        assert rsp.status == 200
    async with session.delete(f"{api}/rules/{rule_id}") as rsp:
        assert rsp.status == 404
    async with session.post(f"{api}/overload", json={"seconds": 60, "vas_id": "VAS001"}) as rsp:
        assert rsp.status == 201 and (await rsp.json())["windows"][0]["vas_id"] == "VAS001"
    assert (await post_mm7(session, mmsc.url, lgt_submit())).status_code == 4030
    async with session.delete(f"{api}/overload") as rsp:
        assert (await rsp.json())["windows"] == []
    async with session.put(f"{api}/tps", json={"vas_id": "VAS001", "tps": 1}) as rsp:
        assert (await rsp.json())["contracts"] == {"VAS001": 1.0}
    got = [(await post_mm7(session, mmsc.url, lgt_submit())).status_code for _ in range(2)]
    assert got == [1000, 7103]
    async with session.get(f"{api}/reports") as rsp:
        assert (await rsp.json())["total"] >= 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "method,path,body,status",
    [
        ("post", "/api/rules", b"{not json", 400),
        ("post", "/api/rules", b'{"status": 12}', 400),
        ("post", "/api/rules", b'{"colour": "red"}', 400),
        ("post", "/api/rules", b'{"recipient": "re:("}', 400),
        ("post", "/api/rules", b"[1]", 400),
        ("post", "/api/rules", b"", 400),
        ("post", "/api/rules", b"[" + b'{"status": 1000},' * 20000 + b"{}]", 413),
        ("post", "/api/overload", b'{"seconds": -1}', 400),
        ("post", "/api/overload", b'{"seconds": "x"}', 400),
        ("put", "/api/tps", b'{"tps": 3}', 400),
        ("put", "/api/tps", b'{"vas_id": "X", "tps": 0}', 400),
        ("get", "/api/messages/abc", None, 400),
        ("get", "/api/messages/999", None, 404),
        ("get", "/api/messages?limit=-1", None, 400),
        ("get", "/api/nothing", None, 404),
    ],
)
async def test_bad_admin_input_gets_a_clear_4xx(
    mmsc: MockMMSC, session, method, path, body, status
):
    async with session.request(method, mmsc.base_url + path, data=body) as rsp:
        assert rsp.status == status
        payload = await rsp.json()
    assert payload["error"]


@pytest.mark.asyncio
async def test_openapi_document_lists_the_routes(mmsc: MockMMSC, session):
    async with session.get(mmsc.base_url + "/api/openapi.json") as rsp:
        document = await rsp.json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/messages",
        "/api/messages/{id}/parts/{index}",
        "/api/rules",
        "/api/overload",
        "/api/tps",
        "/api/reports",
    ):
        assert path in document["paths"]
    # every route of the API is documented, with its method: one API, one document
    for route in mmsc.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if not path.startswith("/api/") or path == "/api/{tail}" or route.method == "HEAD":
            continue
        if route.method == "*":  # any other method of a documented path: 405 with Allow
            assert path in document["paths"], path
            continue
        assert route.method.lower() in document["paths"].get(path, {}), (route.method, path)


@pytest.mark.asyncio
async def test_event_bus_publishes_requests(mmsc: MockMMSC, session):
    events = []

    async def listen():
        async for event in mmsc.store.subscribe():
            events.append(event)
            if len(events) == 2:
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await post_mm7(session, mmsc.url, lgt_submit(delivery_report=False))
    await post_mm7(session, mmsc.url, b"junk")
    await asyncio.wait_for(listener, 2)
    assert [e["type"] for e in events] == ["request", "request"]
    assert [e["message"]["status_code"] for e in events] == [1000, 2007]


@pytest.mark.asyncio
async def test_wait_for_messages_times_out_with_a_clear_message(mmsc: MockMMSC):
    with pytest.raises(TimeoutError, match="got 0"):
        await mmsc.wait_for_messages(1, timeout=0.05)


def test_cli_serve_prints_the_url_and_answers(tmp_path):
    env = {**os.environ, "MOCKMMSC_TIME_SCALE": "0.01"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockmmsc", "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mm7")

        async def check():
            async with aiohttp.ClientSession() as session:
                answer = await post_mm7(session, url, lgt_submit("01099996014"))
                async with session.get(url.removesuffix("/mm7") + "/healthz") as rsp:
                    return answer.status_code, rsp.status

        assert asyncio.run(check()) == (6014, 200)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_cli_refuses_bad_settings(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("time_scale = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "mockmmsc", "serve", "--port", "0", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "time_scale=-1.0" in result.stderr
