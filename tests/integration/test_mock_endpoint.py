"""The mock's MM7 endpoint over loopback: magic codes, report statuses, forms, faults, limits."""

from __future__ import annotations

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import encode
from mm7client.codes import normalize_report
from mm7client.codes.lgt import RESULT_TYPE_REPORT, RESULT_TYPE_SUBMIT, iter_rows
from mm7client.model import (
    Address,
    CancelRequest,
    DeliveryReportRequest,
    Part,
    ReplaceRequest,
    SoapFault,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP
from mockmmsc import MockMMSC
from mockmmsc.scenarios import MAGIC_REPORTS
from mockmmsc.testing import ReportSink, lgt_submit, post_mm7

SUBMIT_ROWS = [
    r for r in iter_rows() if r.provider == "LGT" and r.result_type == RESULT_TYPE_SUBMIT
]
REPORT_ROWS = [
    r for r in iter_rows() if r.provider == "LGT" and r.result_type == RESULT_TYPE_REPORT
]


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


def test_seed_tables_cover_the_documented_magic_codes():
    codes = sorted(int(r.origin_result) for r in SUBMIT_ROWS)
    assert codes == [
        1000,
        1100,
        *range(2000, 2008),
        *range(3000, 3004),
        *range(4000, 4008),
        4030,
        4032,
        6014,
        6024,
        6025,
        6072,
        6102,
        7103,
    ]
    assert [(r.origin_result, r.result_message) for r in REPORT_ROWS] == list(MAGIC_REPORTS)


@pytest.mark.asyncio
@pytest.mark.parametrize("row", SUBMIT_ROWS, ids=lambda r: r.origin_result)
async def test_magic_recipient_answers_every_lgt_code(mmsc: MockMMSC, session, row):
    code = int(row.origin_result)
    request = lgt_submit(f"0109999{code:04d}", delivery_report=False, transaction_id=f"TX{code}")
    answer = await post_mm7(session, mmsc.url, request)
    assert answer.http_status == 200
    assert isinstance(answer.message, SubmitResponse)
    assert answer.status_code == code
    assert answer.status_text == row.result_message
    assert answer.message.transaction_id == f"TX{code}"
    assert (answer.message.message_id is not None) == (code < 2000)
    (received,) = mmsc.messages
    assert received.status_code == code and received.operation == "SubmitReq"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "index,row",
    list(enumerate(REPORT_ROWS, 1)),
    ids=[f"{r.origin_result}-{r.result_message}" for r in REPORT_ROWS],
)
async def test_magic_recipient_gets_every_report_status(mmsc_settings, session, index, row):
    async with ReportSink() as sink:
        settings = mmsc_settings.replace(report_url=sink.url)
        async with MockMMSC(settings) as mmsc:
            number = f"0108888000{index}"
            answer = await post_mm7(session, mmsc.url, lgt_submit(number))
            assert answer.status_code == 1000
            (report,) = await mmsc.wait_for_reports(1)
    assert (report.mm_status, report.status_text) == (row.origin_result, row.result_message)
    assert report.acknowledged and report.attempts == 1
    (received,) = sink.received
    assert isinstance(received, DeliveryReportRequest)
    assert received.message_id == answer.message.message_id
    assert received.recipient.value == number
    assert received.sender is not None and received.sender.value == "15881234"
    assert received.mms_relay_server_id == settings.relay_server_id
    assert (
        received.timestamp is not None
        and received.timestamp.utcoffset().total_seconds() == 9 * 3600
    )
    assert (
        normalize_report(received.mm_status, received.status_text).convert_result
        == row.convert_result
    )
    # the report is LGT form: EUC-KR, unqualified children
    assert sink.raw[0].startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
    assert b"<MMStatus>" in sink.raw[0]


@pytest.mark.asyncio
async def test_other_numbers_get_1000_and_retrieved_ok(mmsc_settings, session):
    async with ReportSink() as sink, MockMMSC(mmsc_settings.replace(report_url=sink.url)) as mmsc:
        answer = await post_mm7(session, mmsc.url, lgt_submit("01055556666"))
        assert answer.status_code == 1000 and answer.status_text == "Success"
        (report,) = await mmsc.wait_for_reports(1)
        assert (report.mm_status, report.status_text, report.recipient) == (
            "Retrieved",
            "OK",
            "01055556666",
        )
        # no DeliveryReport=true: no report
        await post_mm7(session, mmsc.url, lgt_submit("01055557777", delivery_report=False))
        assert len(mmsc.store.reports) == 1


RAW_LGT_SUBMIT = (
    b"--MIME_boundary\r\n"
    b'Content-Type: text/xml; charset="euc-kr"\r\n'
    b"Content-ID: soap-start\r\n"
    b"\r\n"
    b'<?xml version="1.0" encoding="euc-kr"?>\r\n'
    b'<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<env:Header><mm7:TransactionID xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/'
    b'23.140/schema/REL-5-MM7-1-2" env:mustUnderstand="1">TX-HAND-1</mm7:TransactionID>'
    b"</env:Header><env:Body>"
    b'<mm7:SubmitReq xmlns:mm7="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/'
    b'REL-5-MM7-1-2">'
    b"<MM7Version>5.3.0</MM7Version>"
    b"<SenderIdentification><VASPID>HANDVASP</VASPID><VASID>HANDVAS</VASID>"
    b"<SenderAddress><Number>15881234</Number></SenderAddress><CallBack>15881234</CallBack>"
    b"</SenderIdentification>"
    b"<Recipients><To><Number>01088880006</Number></To></Recipients>"
    b"<DeliveryReport>True</DeliveryReport><ReadReply>False</ReadReply>"
    b"<DistributionIndicator>False</DistributionIndicator>"
    b"<KisaOrigCode>123456789</KisaOrigCode>"
    b"<Subject>" + "제목".encode("euc-kr") + b"</Subject>"
    b'<Content href="cid content-1" allowAdaptations="True"/>'
    b"</mm7:SubmitReq></env:Body></env:Envelope>\r\n"
    b"--MIME_boundary\r\n"
    b'Content-Type: multipart/mixed; boundary="inner"\r\n'
    b"Content-ID: content-1\r\n"
    b"\r\n"
    b"--inner\r\n"
    b'Content-Type: text/plain; charset="euc-kr"\r\n'
    b"Content-ID: text-1\r\n"
    b"\r\n" + "본문입니다".encode("euc-kr") + b"\r\n"
    b"--inner\r\n"
    b"Content-Type: image/jpeg\r\n"
    b"Content-ID: image-1\r\n"
    b"Content-Location: a.jpg\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"/9j/4AAQSkZJRgABAQ==\r\n"
    b"--inner--\r\n"
    b"--MIME_boundary--\r\n"
)
RAW_LGT_CONTENT_TYPE = (
    'multipart/related; boundary="MIME_boundary"; type="text/xml"; start=soap-start'
)


@pytest.mark.asyncio
async def test_hand_written_lgt_request_bytes(mmsc_settings, session):
    async with ReportSink() as sink, MockMMSC(mmsc_settings.replace(report_url=sink.url)) as mmsc:
        answer = await post_mm7(
            session, mmsc.url, RAW_LGT_SUBMIT, content_type=RAW_LGT_CONTENT_TYPE
        )
        assert answer.http_status == 200, answer.body
        assert answer.status_code == 1000
        assert answer.message.transaction_id == "TX-HAND-1"
        (report,) = await mmsc.wait_for_reports(1)
        assert (report.mm_status, report.status_text) == ("Expired", "NOK")
        (item,) = mmsc.messages
        assert item.vas_id == "HANDVAS"
        assert item.subject == "제목"
        assert item.request.delivery_report is True and item.request.read_reply is False
        assert [p.content_type for p in item.parts] == ["text/plain", "image/jpeg"]
        assert item.parts[0].text == "본문입니다"
        assert item.parts[1].data == b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"
        # and it is served back by the admin API
        async with session.get(f"{mmsc.base_url}/api/messages/{item.id}/parts/1") as rsp:
            assert rsp.status == 200 and rsp.content_type == "image/jpeg"
            assert await rsp.read() == item.parts[1].data
        async with session.get(f"{mmsc.base_url}/api/messages/{item.id}/raw") as rsp:
            assert await rsp.read() == RAW_LGT_SUBMIT


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "profile",
    # the standard form (qualified, UTF-8, REL-6) with LGT's KisaOrigCode element added
    [LGT, THREEGPP.replace(lgt_extensions=True)],
    ids=["lgt", "3gpp-qualified-utf8"],
)
async def test_both_forms_are_accepted_on_both_paths(mmsc: MockMMSC, session, profile):
    request = lgt_submit(
        "01012345678", content=[Part.from_text("hello"), Part.jpeg(b"\xff\xd8jpeg")]
    )
    for path in ("/", "/mm7"):
        request.transaction_id = None
        encoded = encode(request, profile)
        answer = await post_mm7(session, mmsc.base_url + path, encoded)
        assert answer.status_code == 1000
        assert answer.message.transaction_id == encoded.transaction_id
        # answers are always in the mock's profile: LGT, EUC-KR, unqualified
        assert answer.body.startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
        assert b"<StatusCode>1000</StatusCode>" in answer.body
    assert [m.parts[-1].data for m in mmsc.messages] == [b"\xff\xd8jpeg"] * 2


@pytest.mark.asyncio
async def test_standard_form_without_kisa_orig_code_gets_4032(mmsc_settings, session):
    request = lgt_submit("01012345678")
    async with MockMMSC(mmsc_settings) as mmsc:
        answer = await post_mm7(session, mmsc.url, encode(request, THREEGPP))
        assert answer.status_code == 4032 and answer.status_text == "Kisacode error"
    async with MockMMSC(mmsc_settings.replace(require_kisa=False)) as mmsc:
        answer = await post_mm7(session, mmsc.url, encode(request, THREEGPP))
        assert answer.status_code == 1000


@pytest.mark.asyncio
async def test_message_ids_are_fresh(mmsc: MockMMSC, session):
    ids = set()
    for _ in range(5):
        answer = await post_mm7(session, mmsc.url, lgt_submit("01012345678", delivery_report=False))
        ids.add(answer.message.message_id)
    assert len(ids) == 5


@pytest.mark.asyncio
async def test_cancel_and_replace_by_message_id(mmsc: MockMMSC, session):
    submitted = await post_mm7(session, mmsc.url, lgt_submit("01012345678", delivery_report=False))
    message_id = submitted.message.message_id
    replace = ReplaceRequest(
        message_id=message_id, vasp_id="VASP01", vas_id="VAS001", content=[Part.from_text("new")]
    )
    answer = await post_mm7(session, mmsc.url, replace)
    assert type(answer.message).__name__ == "ReplaceResponse" and answer.status_code == 1000
    cancel = CancelRequest(message_id=message_id, vasp_id="VASP01", vas_id="VAS001")
    answer = await post_mm7(session, mmsc.url, cancel)
    assert type(answer.message).__name__ == "CancelResponse" and answer.status_code == 1000
    unknown = CancelRequest(message_id="NOPE", vasp_id="VASP01", vas_id="VAS001")
    answer = await post_mm7(session, mmsc.url, unknown)
    assert answer.status_code == 2005 and answer.status_text == "Message ID Not found"
    assert [m.operation for m in mmsc.messages] == [
        "SubmitReq",
        "ReplaceReq",
        "CancelReq",
        "CancelReq",
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body,content_type,code",
    [
        (b"not xml at all", "text/xml", 2007),
        (b"<a><b></a>", "text/xml", 2007),
        (
            b'<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<env:Body><mm7:SubmitReq xmlns:mm7="urn:x"><MM7Version>5.3.0</MM7Version>'
            b"</mm7:SubmitReq></env:Body></env:Envelope>",
            "text/xml",
            4004,
        ),
        (
            b'<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<env:Body><mm7:FooReq xmlns:mm7="urn:x"/></env:Body></env:Envelope>',
            "text/xml",
            4003,
        ),
        (b"--x\r\nContent-Type: text/xml\r\n\r\n<broken", 'multipart/related; boundary="x"', 2007),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "text/xml", 2007),
    ],
    ids=["garbage", "bad-xml", "no-recipients", "unknown-op", "bad-multipart", "doctype"],
)
async def test_malformed_requests_get_a_soap_fault(
    mmsc: MockMMSC, session, body, content_type, code
):
    answer = await post_mm7(session, mmsc.url, body, content_type=content_type)
    assert answer.http_status == 500
    assert isinstance(answer.message, SoapFault)
    assert answer.message.detail_kind == "RSErrorRsp"
    assert answer.status_code == code
    assert b"Traceback" not in answer.body
    (item,) = mmsc.messages
    assert item.status_code == code and item.error


@pytest.mark.asyncio
async def test_a_report_sent_to_the_mmsc_is_an_unsupported_operation(mmsc: MockMMSC, session):
    report = DeliveryReportRequest(
        message_id="x", recipient=Address("01012345678"), mm_status="Retrieved"
    )
    answer = await post_mm7(session, mmsc.url, report)
    assert answer.http_status == 500 and answer.status_code == 4003


@pytest.mark.asyncio
async def test_oversized_bodies_are_refused_with_413_and_2004(mmsc_settings, session):
    async with MockMMSC(mmsc_settings.replace(max_body_bytes=10_000)) as mmsc:
        big = lgt_submit("01012345678", content=[Part.jpeg(b"\xff" * 20_000)])
        answer = await post_mm7(session, mmsc.url, big)
        assert answer.http_status == 413 and answer.status_code == 2004
        assert isinstance(answer.message, SoapFault)

        async def chunks():  # no Content-Length: refused while streaming
            for _ in range(40):
                yield b"x" * 1000

        async with session.post(
            mmsc.url, data=chunks(), headers={"Content-Type": "text/xml"}
        ) as rsp:
            assert rsp.status == 413
        small = await post_mm7(session, mmsc.url, lgt_submit("01012345678"))
        assert small.status_code == 1000
        assert [m.status_code for m in mmsc.messages] == [2004, 2004, 1000]


@pytest.mark.asyncio
async def test_healthz_and_front_page(mmsc: MockMMSC, session):
    async with session.get(mmsc.base_url + "/healthz") as rsp:
        assert rsp.status == 200 and (await rsp.json())["status"] == "ok"
    async with session.get(mmsc.base_url + "/") as rsp:
        # the front page belongs to the web inbox: only check that it is served
        assert rsp.status == 200 and rsp.content_type == "text/html"
        assert (await rsp.text()).lstrip().lower().startswith("<!doctype html>")
