"""Hostile input against every side: the mock's MM7 endpoint and admin API, the receiver, and
the client's answer parser. Each class gets a clear error, in bounded time, and what was stored
before is still there, unchanged; the target still serves a valid request afterwards."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from hostile_payloads import HOSTILE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm7client import MM7Client
from mm7client.codec import Limits, decode, encode, split_body
from mm7client.model import (
    Address,
    DeliveryReportRequest,
    Part,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT
from mm7client.receiver import ReceiverServer, SqliteStore
from mockmmsc import MockMMSC, MockSettings, Rule
from mockmmsc.faults import FAULT_KINDS, Fault
from mockmmsc.settings import SettingsError
from mockmmsc.testing import lgt_submit, post_mm7

GUARD = 10.0
LIMIT = 2 * 1024 * 1024
CLASSES = sorted(HOSTILE)
#: HTTP status of the refusal when it is not 500
HTTP_STATUS = {"over-the-limit": 413, "wrong-content-type": 415}
#: classes hidden inside a content part: the mock refuses them only with check_content (by
#: default it answers from the envelope and flags the part when it is first read)
CONTENT_CLASSES = {"invalid-base64": "invalid base64", "malformed-part-header": "malformed MIME"}


@pytest.fixture
def mmsc_settings(request: pytest.FixtureRequest) -> MockSettings:
    """The mock of these tests; strict content checking for the content classes."""
    callspec = getattr(request.node, "callspec", None)
    strict = callspec is not None and callspec.params.get("kind") in CONTENT_CLASSES
    return MockSettings(host="127.0.0.1", port=0, time_scale=0.01, check_content=strict)


def soap_envelope(message: Any) -> bytes:
    encoded = encode(message, LGT)
    return split_body(encoded.body, encoded.content_type).envelope


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, content_type: str | None
) -> tuple[int, bytes, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    skip = () if content_type else ("Content-Type",)
    try:
        async with http.post(url, data=body, headers=headers, skip_auto_headers=skip) as rsp:
            return rsp.status, await rsp.read(), rsp.headers.get("Content-Type", "")
    except aiohttp.ClientOSError:  # refused before the whole body was written: still refused
        return 413, b"", ""


def fault_of(raw: bytes, content_type: str) -> SoapFault:
    assert b"Traceback" not in raw
    fault = decode(raw, content_type)
    assert isinstance(fault, SoapFault) and fault.status is not None, fault
    return fault


# -- the mock's MM7 endpoint ------------------------------------------------------------------


def _snapshot(mmsc: MockMMSC) -> list[tuple[Any, ...]]:
    return [
        (m.id, m.raw_body, m.status_code, m.message_id, m.transaction_id)
        for m in mmsc.messages
        if m.operation == "SubmitReq"
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", CLASSES)
async def test_mock_endpoint_refuses(mmsc: MockMMSC, session: aiohttp.ClientSession, kind: str):
    first = await post_mm7(session, mmsc.url, lgt_submit(delivery_report=False))
    assert first.status_code == 1000
    before = _snapshot(mmsc)
    body, content_type = HOSTILE[kind](soap_envelope(lgt_submit()))
    status, raw, answer_type = await asyncio.wait_for(
        post(session, mmsc.url, body, content_type), GUARD
    )
    expected_http = HTTP_STATUS.get(kind, 500)
    assert status == expected_http, raw[:300]
    if raw:
        fault = fault_of(raw, answer_type)
        expected = {"over-the-limit": "2004", "thousands-of-parts": "2004"}.get(kind, "2007")
        if kind == "huge-attribute":  # the XML document limit: "too large" as well
            expected = "2004"
        assert fault.status.code == expected, fault
    assert _snapshot(mmsc) == before
    refused = [m for m in mmsc.messages if m.operation in ("invalid", "refused")]
    assert len(refused) == 1 and refused[0].message_id is None
    again = await post_mm7(session, mmsc.url, lgt_submit(delivery_report=False))
    assert again.status_code == 1000


@pytest.mark.asyncio
@pytest.mark.parametrize("content_class", sorted(CONTENT_CLASSES))
async def test_mock_flags_undecodable_content_when_read(
    mmsc: MockMMSC, session: aiohttp.ClientSession, content_class: str
):
    """By default the answer comes from the envelope; the broken part is flagged, not lost."""
    body, content_type = HOSTILE[content_class](soap_envelope(lgt_submit()))
    status, raw, answer_type = await post(session, mmsc.url, body, content_type)
    assert status == 200
    answer = decode(raw, answer_type)
    assert isinstance(answer, SubmitResponse) and answer.status.code == "1000"
    (item,) = mmsc.messages
    assert item.raw_body == body and item.content_error is None  # not decoded yet
    async with session.get(f"{mmsc.base_url}/api/messages/{item.id}") as rsp:
        shown = await rsp.json()
    assert rsp.status == 200
    assert CONTENT_CLASSES[content_class] in shown["content_error"]
    assert shown["parts"] == [] and shown["fields"]["vas_id"] == item.vas_id
    assert item.request is not None and item.request.transaction_id == answer.transaction_id


# -- the mock's admin API ---------------------------------------------------------------------

JSON_BOMBS: dict[str, tuple[str, bytes, set[int]]] = {
    "deeply-nested": ("/api/rules", b"[" * 100_000 + b"]" * 100_000, {400}),
    "nested-in-an-object": ("/api/faults", b'{"kind": ' + b"[" * 5000 + b"]" * 5000 + b"}", {400}),
    "huge": ("/api/rules", b'{"name": "' + b"x" * (1024 * 1024) + b'"}', {413}),
    "not-json": ("/api/rules", b"{'kind': no}", {400}),
    "invalid-utf8": ("/api/rules", b'{"name": "\xff\xfe"}', {400}),
    "nan": ("/api/overload", b'{"seconds": NaN}', {400}),
    "infinity-literal": ("/api/rules", b'{"delay": Infinity}', {400}),
    "overflowing-number": ("/api/overload", b'{"seconds": 1e999}', {400}),
    "rule-wrong-types": ("/api/rules", b'{"status": "1000", "times": "3"}', {400}),
    "rule-step-wrong-types": ("/api/rules", b'{"then": [{"times": [1]}]}', {400}),
    "rule-not-object": ("/api/rules", b'["x"]', {400}),
    "fault-wrong-types": ("/api/faults", b'{"kind": "delay", "delay": {"a": 1}}', {400}),
    "tps-wrong-types": ("/api/tps", b'{"vas_id": 7, "tps": "fast"}', {400}),
    "report-url-wrong-type": ("PUT /api/report-urls", b'{"vas_id": "V", "url": ["x"]}', {400}),
    "empty": ("/api/rules", b"", {400}),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", sorted(JSON_BOMBS))
async def test_admin_api_refuses(mmsc: MockMMSC, session: aiohttp.ClientSession, kind: str):
    mmsc.add_rule(recipient="01011112222", status=4006)
    mmsc.endpoint.faults.add({"kind": "delay", "delay": 0})
    rules_before = [r.to_dict() for r in mmsc.rules]
    faults_before = [f.to_dict() for f in mmsc.endpoint.faults]
    path, body, statuses = JSON_BOMBS[kind]
    method, _, path = path.rpartition(" ")
    async with session.request(
        method or "POST",
        mmsc.base_url + path,
        data=body,
        headers={"Content-Type": "application/json"},
    ) as rsp:
        error = await asyncio.wait_for(rsp.json(), GUARD)
        assert rsp.status in statuses, error
    assert isinstance(error["error"], str) and error["status"] == rsp.status
    assert "Traceback" not in error["error"] and len(error["error"]) < 2000
    assert [r.to_dict() for r in mmsc.rules] == rules_before
    assert [f.to_dict() for f in mmsc.endpoint.faults] == faults_before
    assert mmsc.overload_windows.active() == {}
    async with session.post(mmsc.base_url + "/api/rules", json={"status": 4006}) as rsp:
        assert rsp.status == 201


# -- the receiver -----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[SqliteStore, ReceiverServer]]:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, limits=Limits(max_body_bytes=LIMIT)) as server,
    ):
        yield store, server


def report(message_id: str) -> DeliveryReportRequest:
    return DeliveryReportRequest(
        message_id=message_id, recipient=Address("01012345678"), mm_status="Retrieved"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", CLASSES)
async def test_receiver_refuses(receiver, session: aiohttp.ClientSession, kind: str) -> None:
    store, server = receiver
    good = encode(report("KEPT"), LGT)
    status, _, _ = await post(session, server.url, good.body, good.content_type)
    assert status == 200
    before = await store.items()
    body, content_type = HOSTILE[kind](soap_envelope(report("HOSTILE")))
    status, raw, answer_type = await asyncio.wait_for(
        post(session, server.url, body, content_type), GUARD
    )
    assert status == HTTP_STATUS.get(kind, 500), raw[:300]
    if raw:
        fault = fault_of(raw, answer_type)
        expected = "2004" if kind == "thousands-of-parts" else "2007"
        assert fault.status.code == expected, fault
    assert await store.items() == before
    again = encode(report("AFTER"), LGT)
    status, _, _ = await post(session, server.url, again.body, again.content_type)
    assert status == 200
    assert [i.message_id for i in await store.items()] == ["KEPT", "AFTER"]


# -- the client's answer parser ---------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", CLASSES)
async def test_client_answer_parser_refuses(kind: str) -> None:
    """A tiny server answers the client's SubmitReq with hostile bytes (HTTP 200)."""

    async def hostile(request: web.Request) -> web.Response:
        sent = decode(await request.read(), request.headers["Content-Type"])
        answer = SubmitResponse(
            transaction_id=sent.transaction_id, status=Status.of(1000, "Success"), message_id="M"
        )
        body, content_type = HOSTILE[kind](soap_envelope(answer))
        headers = {"Content-Type": content_type} if content_type else {}
        response = web.Response(body=body, headers=headers)
        if content_type is None:
            response.content_type = "application/octet-stream"
            del response.headers["Content-Type"]
        return response

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/mm7", hostile)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    results = []

    async def hook(request: Any, result: Any) -> None:
        results.append(result)

    try:
        async with MM7Client(
            f"http://127.0.0.1:{runner.addresses[0][1]}/mm7",
            vasp_id="VASP",
            vas_id="VAS",
            kisa_orig_code="123456789",
            callback="15881234",
            total_timeout=5.0,
            on_result=hook,
        ) as client:
            request = SubmitRequest(to=["01012345678"], subject="x", content=[Part.from_text("x")])
            result = await asyncio.wait_for(client.submit(request), GUARD)
    finally:
        await runner.cleanup()
    assert results == [result]
    assert not result.ok and result.message_id is None and result.attempts == 1
    assert result.normalized.origin_result == "unparseable"
    assert len(result.normalized.status_text or "") <= 300  # a short reason, not the body
    assert json.dumps(result.to_dict())


# -- property-based: arbitrary JSON into rules and faults -------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_rule_keys = st.sampled_from(
    ["recipient", "status", "delay", "times", "then", "probability", "fault", "http_status"]
)
_fault_keys = st.sampled_from(
    ["kind", "delay", "delay_max", "times", "probability", "http_status", "chunk_size", "hold"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(_rule_keys, _json_values, max_size=5)
    | st.dictionaries(st.text(max_size=8), _json_values, max_size=3)
)
def test_any_json_rule_is_a_rule_or_a_settings_error(data: dict[str, Any]) -> None:
    try:
        rule = Rule.from_dict(data)
    except SettingsError as exc:
        assert str(exc)
        return
    json.dumps(rule.to_dict())  # what the admin API answers is JSON
    assert rule.step_for(1) is not None or rule.times == 0


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_fault_keys, _json_values, max_size=5) | _json_values)
def test_any_json_fault_is_a_fault_or_a_settings_error(data: Any) -> None:
    try:
        fault = Fault.from_value(data)
    except SettingsError as exc:
        assert str(exc)
        return
    assert fault.kind in FAULT_KINDS
    assert 0 <= fault.wait_seconds(random.Random(0)) < float("inf")
    json.dumps(fault.to_dict())


def test_not_a_number_is_refused_everywhere() -> None:
    for data in ({"probability": float("nan")}, {"delay": float("nan")}, {"times": 1.5}):
        with pytest.raises(SettingsError):
            Rule.from_dict(data)
        with pytest.raises(SettingsError):
            Fault.from_value({"kind": "delay", **data})
