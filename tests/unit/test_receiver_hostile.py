"""Hostile input: every request below gets a SOAP Fault with the right status and stores nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import Limits, decode, encode
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliveryReportRequest,
    Part,
    SoapFault,
    SubmitRequest,
)
from mm7client.profiles import LGT, THREEGPP
from mm7client.receiver import ReceiverServer, SqliteStore

LIMIT = 64 * 1024
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2"


def envelope(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        f'<env:Envelope xmlns:env="{ENV}"><env:Header>'
        f'<mm7:TransactionID xmlns:mm7="{NS}">t-1</mm7:TransactionID></env:Header>'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def report_xml(message_id: str = "&lol9;") -> str:
    return (
        f'<mm7:DeliveryReportReq xmlns:mm7="{NS}"><MM7Version>5.3.0</MM7Version>'
        f"<MessageID>{message_id}</MessageID><Recipient><Number>010</Number></Recipient>"
        "<MMStatus>Retrieved</MMStatus></mm7:DeliveryReportReq>"
    )


BILLION_LAUGHS = envelope(
    report_xml(),
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>",
)
EXTERNAL_ENTITY = envelope(
    report_xml("&xxe;"), '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
)
PARAMETER_ENTITY = envelope(
    report_xml("x"),
    '<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>',
)


def multipart_mo() -> tuple[bytes, str]:
    encoded = encode(
        DeliverRequest(
            sender=Address("01011112222"),
            to=[Address("15881234")],
            content=[Part.from_text("hello"), Part.jpeg(b"\xff\xd8" + b"\x00" * 4000)],
        ),
        THREEGPP,
    )
    return encoded.body, encoded.content_type


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[SqliteStore, ReceiverServer]]:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, limits=Limits(max_body_bytes=LIMIT)) as server,
    ):
        yield store, server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def expect_fault(
    http: aiohttp.ClientSession,
    receiver: tuple[SqliteStore, ReceiverServer],
    body: bytes,
    content_type: str | None,
    *,
    http_status: int,
    status_code: str,
) -> SoapFault:
    store, server = receiver
    headers = {"Content-Type": content_type} if content_type else {}
    skip = () if content_type else ("Content-Type",)
    async with http.post(server.url, data=body, headers=headers, skip_auto_headers=skip) as rsp:
        raw = await rsp.read()
        assert rsp.status == http_status, raw
        fault = decode(raw, rsp.headers["Content-Type"])
    assert isinstance(fault, SoapFault), fault
    assert fault.status is not None and fault.status.code == status_code, fault
    assert fault.detail_kind == "VASPErrorRsp"
    assert b"Traceback" not in raw
    assert await store.items() == []
    return fault


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("billion laughs", BILLION_LAUGHS),
        ("external entity", EXTERNAL_ENTITY),
        ("parameter entity", PARAMETER_ENTITY),
    ],
)
async def test_xml_bombs_and_entities_are_refused(
    receiver: tuple[SqliteStore, ReceiverServer],
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
) -> None:
    fault = await expect_fault(
        http, receiver, body, "text/xml", http_status=500, status_code="2007"
    )
    assert "DOCTYPE" in fault.fault_string
    assert "root:" not in fault.fault_string  # nothing of /etc/passwd leaks back
    assert "refused MM7 request from 127.0.0.1" in caplog.text
    assert "<!DOCTYPE" in caplog.text  # the body preview is logged


@pytest.mark.asyncio
async def test_declared_huge_body_is_refused_before_reading(
    receiver: tuple[SqliteStore, ReceiverServer],
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = envelope(report_xml("x" * (LIMIT + 1)))
    fault = await expect_fault(
        http, receiver, body, "text/xml", http_status=413, status_code="2007"
    )
    assert f"limit of {LIMIT} bytes" in fault.fault_string
    assert f"Content-Length {len(body)}" in caplog.text


@pytest.mark.asyncio
async def test_chunked_huge_body_is_refused_while_reading(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield envelope(report_xml())[:200]
        for _ in range(64):  # bounded: at most 4 MB
            yield b"A" * (64 * 1024)
            await asyncio.sleep(0)

    store, server = receiver
    try:
        async with http.post(
            server.url, data=endless(), headers={"Content-Type": "text/xml"}
        ) as rsp:
            assert rsp.status == 413
            fault = decode(await rsp.read(), rsp.headers["Content-Type"])
            assert isinstance(fault, SoapFault) and fault.status is not None
            assert fault.status.code == "2007"
    except (aiohttp.ClientError, ConnectionResetError):
        pass  # the server may close the connection before the client finished writing
    assert await store.items() == []


@pytest.mark.asyncio
async def test_truncated_mime_is_refused(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    body, content_type = multipart_mo()
    await expect_fault(
        http, receiver, body[: len(body) // 2], content_type, http_status=500, status_code="2007"
    )


@pytest.mark.asyncio
async def test_multipart_without_boundary_is_refused(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    body, _ = multipart_mo()
    await expect_fault(
        http, receiver, body, "multipart/related", http_status=500, status_code="2007"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/html; charset=utf-8", "application/x-www-form-urlencoded"],
)
async def test_wrong_content_types_are_refused(
    receiver: tuple[SqliteStore, ReceiverServer],
    http: aiohttp.ClientSession,
    content_type: str,
) -> None:
    body = encode(
        DeliveryReportRequest(message_id="M", recipient=Address("010"), mm_status="Retrieved"),
        LGT,
    ).body
    fault = await expect_fault(
        http, receiver, body, content_type, http_status=415, status_code="2007"
    )
    assert content_type in fault.fault_string


@pytest.mark.asyncio
async def test_body_invalid_in_its_charset_is_refused(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    body = envelope(report_xml("MID")).replace(b"MID", b"M\xff\xfe\xc3")
    await expect_fault(
        http, receiver, body, "text/xml; charset=utf-8", http_status=500, status_code="2007"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "text/xml"),
        (b"this is not xml", "text/xml"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/xml"),
        (envelope(report_xml("M"))[:-40], "text/xml"),
        (b"\x00\x01\x02garbage", None),
        (b"\x00\x01\x02garbage", "application/octet-stream"),
    ],
    ids=["empty", "text", "html", "truncated-xml", "no-content-type", "octet-stream"],
)
async def test_unreadable_bodies_are_refused(
    receiver: tuple[SqliteStore, ReceiverServer],
    http: aiohttp.ClientSession,
    body: bytes,
    content_type: str | None,
) -> None:
    await expect_fault(http, receiver, body, content_type, http_status=500, status_code="2007")


@pytest.mark.asyncio
async def test_missing_mandatory_element_is_a_validation_error(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    body = envelope(
        f'<mm7:DeliveryReportReq xmlns:mm7="{NS}"><MM7Version>5.3.0</MM7Version>'
        "<Recipient><Number>010</Number></Recipient><MMStatus>Retrieved</MMStatus>"
        "</mm7:DeliveryReportReq>"
    )
    fault = await expect_fault(
        http, receiver, body, "text/xml", http_status=500, status_code="4004"
    )
    assert "MessageID" in fault.fault_string


@pytest.mark.asyncio
async def test_a_request_the_vasp_does_not_receive_is_unsupported(
    receiver: tuple[SqliteStore, ReceiverServer], http: aiohttp.ClientSession
) -> None:
    submit = encode(
        SubmitRequest(to=["01012345678"], vas_id="VAS", vasp_id="VASP", subject="x"), THREEGPP
    )
    fault = await expect_fault(
        http, receiver, submit.body, submit.content_type, http_status=500, status_code="4003"
    )
    assert "SubmitRequest" in fault.fault_string
    unknown = envelope(f'<mm7:FrobnicateReq xmlns:mm7="{NS}"/>')
    await expect_fault(http, receiver, unknown, "text/xml", http_status=500, status_code="4003")


@pytest.mark.asyncio
async def test_malformed_basic_credentials_are_refused(http: aiohttp.ClientSession) -> None:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, basic_auth=("u", "p")) as server,
    ):
        body = envelope(report_xml("M"))
        for header in ("Basic !!!not-base64", "Bearer abc", "Basic " + "dTpw"[:3]):
            async with http.post(
                server.url,
                data=body,
                headers={"Content-Type": "text/xml", "Authorization": header},
            ) as rsp:
                assert rsp.status == 401
                fault = decode(await rsp.read(), rsp.headers["Content-Type"])
                assert isinstance(fault, SoapFault)
        assert await store.items() == []


@pytest.mark.asyncio
async def test_the_receiver_keeps_working_after_hostile_input(
    receiver: tuple[SqliteStore, ReceiverServer],
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    store, server = receiver
    for body in (BILLION_LAUGHS, b"junk", envelope(report_xml("x" * LIMIT))):
        async with http.post(server.url, data=body, headers={"Content-Type": "text/xml"}) as rsp:
            assert rsp.status in (413, 500)
    good = envelope(report_xml("GOOD"))
    async with http.post(server.url, data=good, headers={"Content-Type": "text/xml"}) as rsp:
        assert rsp.status == 200
    (item,) = await store.items()
    assert item.message_id == "GOOD"
    assert "Traceback" not in caplog.text
