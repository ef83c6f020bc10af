"""``GET /api/traffic`` and paging back through ``/api/messages`` over loopback."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import pytest_asyncio

from mockmmsc import MockMMSC
from mockmmsc.testing import lgt_submit, post_mm7


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.asyncio
async def test_traffic_counts_each_vasids_answers_with_its_contract_and_windows(
    mmsc: MockMMSC, session: aiohttp.ClientSession
) -> None:
    api = mmsc.base_url + "/api"
    async with session.put(f"{api}/tps", json={"vas_id": "VAS001", "tps": 2}) as rsp:
        assert rsp.status == 200
    codes = [(await post_mm7(session, mmsc.url, lgt_submit())).status_code for _ in range(4)]
    assert codes.count(1000) >= 2 and codes.count(7103) >= 1, codes  # 2 TPS, 1 s of tokens
    await post_mm7(session, mmsc.url, lgt_submit("01099994006", vas_id="VAS002"))
    async with session.post(f"{api}/overload", json={"vas_id": "VAS002", "seconds": 3000}) as rsp:
        assert rsp.status == 201
    assert (await post_mm7(session, mmsc.url, lgt_submit(vas_id="VAS002"))).status_code == 4030

    async with session.get(f"{api}/traffic?seconds=60") as rsp:
        assert rsp.status == 200
        data = await rsp.json()
    assert data["seconds"] == 60 and data["series"] == ["accepted", "7103", "4030", "other"]
    by_vas = {t["vas_id"]: t for t in data["traffic"]}
    assert list(by_vas) == ["VAS001", "VAS002"]
    first = by_vas["VAS001"]
    assert first["tps"] == 2.0
    assert first["totals"]["accepted"] == codes.count(1000)
    assert first["totals"]["7103"] == codes.count(7103)
    assert all(len(column) == 60 for column in first["counts"].values())
    assert sum(first["counts"]["accepted"][-3:]) == codes.count(1000)  # the last seconds
    second = by_vas["VAS002"]
    assert second["tps"] is None
    assert second["totals"] == {"accepted": 0, "7103": 0, "4030": 1, "other": 1}
    (window,) = data["windows"]
    assert window["vas_id"] == "VAS002" and window["from"] <= data["elapsed"] < window["to"]
    scaled = mmsc.settings.scaled(3000)  # in real seconds (30 at the fixture's scale)
    assert scaled - 0.01 <= window["to"] - window["from"] <= scaled + 0.01

    async with session.delete(f"{api}/overload") as rsp:
        assert rsp.status == 200
    async with session.get(f"{api}/traffic?vas_id=VAS002") as rsp:
        data = await rsp.json()
    assert data["seconds"] == 300 and [t["vas_id"] for t in data["traffic"]] == ["VAS002"]
    assert data["windows"][0]["to"] <= data["elapsed"] + 0.01  # closed now
    async with session.get(f"{api}/traffic?seconds=-1") as rsp:
        assert rsp.status == 400 and "seconds" in (await rsp.json())["error"]
    async with session.get(f"{api}/openapi.json") as rsp:
        doc = await rsp.json()
    assert "/api/traffic" in doc["paths"] and "Traffic" in doc["components"]["schemas"]


@pytest.mark.asyncio
async def test_messages_page_back_with_a_cursor_while_new_ones_arrive(
    mmsc: MockMMSC, session: aiohttp.ClientSession
) -> None:
    api = mmsc.base_url + "/api"
    await asyncio.gather(
        *(post_mm7(session, mmsc.url, lgt_submit(f"010000{i:05d}")) for i in range(25))
    )
    async with session.get(f"{api}/messages?limit=10") as rsp:
        first = await rsp.json()
    ids = [m["id"] for m in first["messages"]]
    assert ids == sorted(ids, reverse=True) and first["newer"] == 0
    await post_mm7(session, mmsc.url, lgt_submit("01000099999"))  # arrives meanwhile
    seen = list(ids)
    cursor = ids[-1]
    while True:
        async with session.get(f"{api}/messages?limit=10&before_id={cursor}") as rsp:
            page = await rsp.json()
        if not page["messages"]:
            break
        assert page["newer"] == len(seen) + 1  # the one that arrived meanwhile, too
        seen += [m["id"] for m in page["messages"]]
        cursor = seen[-1]
    assert len(seen) == len(set(seen)) == 25 and page["total"] == 26
    async with session.get(f"{api}/messages?before_id=x") as rsp:
        assert rsp.status == 400 and "before_id" in (await rsp.json())["error"]
