"""Golden inputs written by hand (``tests/golden/*.http``) from the domain notes' LGT facts and
interop quirks, each parsed with precise assertions.

Each file is the HTTP ``Content-Type`` header line, an empty line, then the body bytes exactly as a
peer sends them (EUC-KR, CRLF or bare LF line ends, quoted-printable, base64...).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mm7client.codec import decode, split_body
from mm7client.errors import ParseError
from mm7client.model import (
    Address,
    AddressKind,
    CancelResponse,
    ChargedParty,
    DeliverRequest,
    DeliveryReportRequest,
    MessageClass,
    Priority,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
KST = timezone(timedelta(hours=9))
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
#: the first base64 line of the JPEG part in lgt-submit-req.http
JPEG_BASE64 = b"/9j/4AAQSkZJRgABAQAA"


def load(name: str) -> tuple[bytes, str]:
    """(body, content type) of a golden file."""
    raw = (GOLDEN / name).read_bytes()
    head, body = raw.split(b"\r\n\r\n", 1)
    name_, _, value = head.decode("ascii").partition(":")
    assert name_.lower() == "content-type"
    return body, value.strip()


def decode_golden(name: str) -> object:
    body, ctype = load(name)
    return decode(body, ctype)


def test_every_golden_file_is_covered() -> None:
    tested = {
        "lgt-submit-req.http",
        "submit-qp-soap-mixed-charsets.http",
        "deliver-href-content-location.http",
        "lgt-submit-no-content-element.http",
        "lgt-fault-env-prefixed.http",
        "fault-code-only.http",
        "lgt-submit-rsp-flat-status.http",
        "cancel-rsp-status-out-of-order.http",
        "lgt-delivery-report-req.http",
        "rel5-1-0-submit-plain-sender.http",
        "lgt-submit-rsp.http",
        "lgt-deliver-req-lf.http",
        "html-502-error-page.http",
    }
    assert {p.name for p in GOLDEN.glob("*.http")} == tested


def test_lgt_submit_req_in_the_carrier_form() -> None:
    """EUC-KR body, ks_c_5601-1987, unqualified children, True/False, href="cid x",
    Content-IDs without brackets, no start parameter, X-Kmms-* part headers."""
    body, ctype = load("lgt-submit-req.http")
    assert "start=" not in ctype
    assert "안녕하세요 공지".encode("euc-kr") in body
    message = decode(body, ctype)
    assert isinstance(message, SubmitRequest)
    assert message.transaction_id == "LGT-TX-0001"
    assert message.mm7_version == "5.3.0"
    assert message.vasp_id == "MYCOMPANY"
    assert message.vas_id == "MYSERVICE"
    assert message.sender_address == Address.number("0212345678")
    assert message.callback == "15881234"
    assert message.to == [Address.number("01012345678")]
    assert message.cc == [] and message.bcc == []
    assert message.service_code == "1234"
    assert message.message_class is MessageClass.INFORMATIONAL
    assert message.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=KST)
    assert message.delivery_report is True
    assert message.read_reply is False
    assert message.distribution_indicator is False
    assert message.priority is Priority.NORMAL
    assert message.kisa_orig_code == "123456789"
    assert message.subject == "안녕하세요 공지"
    assert message.allow_adaptations is True
    smil, text, image = message.content
    assert (smil.content_type, smil.content_id) == ("application/smil", "smil-0001")
    assert smil.text is not None and 'src="cid:text-0001"' in smil.text
    assert text.content_type == "text/plain"
    assert text.content_id == "text-0001"
    assert text.filename == "body.txt"
    assert text.charset == "euc-kr"
    assert text.text == "안녕하세요. 오늘의 공지입니다.\r\n두 번째 줄입니다."
    assert text.data == text.text.encode("euc-kr")
    assert text.headers == {"x-kmms-svccode": "123456789012", "x-kmms-redistribution": "0"}
    assert image.content_type == "image/jpeg"
    assert image.content_id == "img-0001"
    assert image.filename == "logo.jpg"
    assert image.data == JPEG
    assert image.text is None


@pytest.mark.parametrize(
    "href",
    [
        "cid:mms-content-0001",
        "cid: mms-content-0001",
        "cid mms-content-0001",
        "mms-content-0001",
        "CID:&lt;mms-content-0001&gt;",
        "cid:MMS-CONTENT-0001",
    ],
)
def test_every_href_spelling_finds_the_content(href: str) -> None:
    body, ctype = load("lgt-submit-req.http")
    body = body.replace(b'href="cid mms-content-0001"', f'href="{href}"'.encode())
    message = decode(body, ctype)
    assert isinstance(message, SubmitRequest)
    assert [p.content_id for p in message.content] == ["smil-0001", "text-0001", "img-0001"]


def test_split_body_finds_the_soap_part_without_start() -> None:
    body, ctype = load("lgt-submit-req.http")
    split = split_body(body, ctype)
    assert split.envelope.startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
    assert split.charset == "ks_c_5601-1987"
    assert [p.content_id for p in split.parts] == ["mms-content-0001"]


def test_quoted_printable_soap_part_and_mixed_charsets() -> None:
    """QP SOAP part, start without brackets, href="cid: x", base64 EUC-KR text, a text part
    without charset, GB2312 and ksc5601 parts, booleans 1/0, a REL-5-MM7-1-3 namespace."""
    body, ctype = load("submit-qp-soap-mixed-charsets.http")
    assert b"=3D" in body  # the SOAP part really is quoted-printable
    message = decode(body, ctype)
    assert isinstance(message, SubmitRequest)
    assert message.transaction_id == "QP-TX-2"
    assert message.mm7_version == "5.6.0"
    assert message.sender_address == Address.short_code("1588")
    assert message.to == [Address.number("01011112222")]
    assert message.cc == [Address.email("cc@example.com", display_only=True)]
    assert message.bcc == [Address.short_code("5678", display_only=False)]
    assert message.delivery_report is True
    assert message.read_reply is False
    assert message.allow_adaptations is False
    assert message.subject == "큐피 인코딩 제목"
    texts = [(p.content_id, p.charset, p.text) for p in message.content]
    assert texts == [
        ("b64text@example", "EUC-KR", "베이스64 본문입니다."),
        ("nocharset@example", None, "plain ascii without charset"),
        ("gb@example", "GB2312", "中文短信内容"),
        ("ksc@example", "ksc5601", "완성형 한글"),
    ]
    assert message.content[0].data == "베이스64 본문입니다.".encode("euc-kr")


def test_content_location_matches_when_no_content_id_does() -> None:
    """SOAP part not first, no start; href="x" names a Content-Location, not a Content-ID."""
    message = decode_golden("deliver-href-content-location.http")
    assert isinstance(message, DeliverRequest)
    assert message.transaction_id == "LOC-3"
    assert message.sender == Address.number("+821012345678")
    assert message.to == [Address("1588", AddressKind.SHORT_CODE)]
    assert message.mms_relay_server_id == "relay-1"
    assert message.timestamp == datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC)
    assert len(message.content) == 1
    part = message.content[0]
    assert part.filename == "mo-message.mime"
    assert part.content_id == "unrelated-cid"
    assert part.text == "이것이 내용입니다"


def test_no_content_element_takes_the_first_other_part() -> None:
    message = decode_golden("lgt-submit-no-content-element.http")
    assert isinstance(message, SubmitRequest)
    assert message.kisa_orig_code == "987654321"
    assert message.subject == "내용 요소 없음"
    assert message.allow_adaptations is None
    assert [(p.content_id, p.text) for p in message.content] == [("text4", "첫 번째 부분")]


def test_fault_with_env_prefixed_children() -> None:
    message = decode_golden("lgt-fault-env-prefixed.http")
    assert isinstance(message, SoapFault)
    assert message.transaction_id == "FAULT-5"
    assert message.fault_code == "Server"
    assert message.fault_string == "시스템 오류"
    assert message.detail_kind == "RSErrorRsp"
    assert message.mm7_version == "5.3.0"
    assert message.status == Status("4030", "System error", "retry after 60 s")


def test_fault_with_faultcode_only() -> None:
    message = decode_golden("fault-code-only.http")
    assert isinstance(message, SoapFault)
    assert message.fault_code == "Client"
    assert message.fault_string == ""
    assert message.detail_kind is None
    assert message.status is None
    assert message.transaction_id is None


def test_flat_out_of_order_status_children() -> None:
    message = decode_golden("lgt-submit-rsp-flat-status.http")
    assert isinstance(message, SubmitResponse)
    assert message.transaction_id == "FLAT-7"
    assert message.mm7_version == "5.3.0"
    assert message.status == Status("7103", "Traffic is over")
    assert message.status.code_int == 7103
    assert message.message_id == "00000000"


def test_status_children_out_of_order() -> None:
    message = decode_golden("cancel-rsp-status-out-of-order.http")
    assert isinstance(message, CancelResponse)
    assert message.mm7_version == "6.3.0"
    assert message.status == Status("2005", "Message ID Not found", "gone")


def test_lgt_delivery_report() -> None:
    """Sender before MessageID, Recipients/Number, +09:00, PPSRejected/NOK, CalledNet."""
    message = decode_golden("lgt-delivery-report-req.http")
    assert isinstance(message, DeliveryReportRequest)
    assert message.transaction_id == "DR-9"
    assert message.mm7_version == "5.3.0"
    assert message.mms_relay_server_id == "LGT_MMSC"
    assert message.sender == Address.number("0212345678")
    assert message.message_id == "041502073667"
    assert message.recipient == Address.number("01012345678")
    assert message.timestamp == datetime(2024, 5, 1, 10, 0, 5, tzinfo=KST)
    assert message.timestamp.utcoffset() == timedelta(hours=9)
    assert message.mm_status == "PPSRejected"
    assert message.status_text == "NOK"
    assert message.called_net == "SKT"


def test_rel5_1_0_plain_text_sender_address() -> None:
    message = decode_golden("rel5-1-0-submit-plain-sender.http")
    assert isinstance(message, SubmitRequest)
    assert message.transaction_id == "R510-10"
    assert message.vasp_id == "TNN" and message.vas_id == "News"
    assert message.sender_address == Address.number("0212345678")
    assert message.to == [
        Address.number("7255441234"),
        Address.email("7255442222@OMMS.com", display_only=True),
    ]
    assert message.bcc == [Address.email("2255442222@OMMS.com")]
    assert message.expiry_date == timedelta(days=1)
    assert message.earliest_delivery_time == datetime(
        2002, 1, 2, 9, 30, 47, tzinfo=timezone(timedelta(hours=-5))
    )
    assert message.charged_party is ChargedParty.SENDER
    assert message.distribution_indicator is True
    assert message.content == []


def test_lgt_submit_rsp() -> None:
    message = decode_golden("lgt-submit-rsp.http")
    assert isinstance(message, SubmitResponse)
    assert message.transaction_id == "LGT-TX-0001"
    assert message.status == Status("1000", "성공")
    assert message.status.is_success
    assert message.message_id == "041502073667"


def test_lgt_deliver_req_with_bare_lf_and_nested_prefix_boundary() -> None:
    """Bare LF line ends, start and Content-IDs without brackets, and an inner boundary that
    extends the outer one (``MO12`` / ``MO12IN``)."""
    message = decode_golden("lgt-deliver-req-lf.http")
    assert isinstance(message, DeliverRequest)
    assert message.transaction_id == "MO-12"
    assert message.sender == Address.number("01098765432")
    assert message.to == [Address.short_code("15881234")]
    assert message.subject == "고객 답장"
    assert message.priority is Priority.NORMAL
    text, image = message.content
    assert (text.content_id, text.text) == ("mo-text", "네, 참석하겠습니다.")
    assert (image.content_id, image.data) == ("mo-img", JPEG)


def test_html_error_page_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        decode_golden("html-502-error-page.http")
    assert caught.value.status_code == 2007


@pytest.mark.parametrize("ctype", ["text/xml", "", None, "multipart/related; boundary=x"])
def test_empty_body_is_a_parse_error(ctype: str | None) -> None:
    with pytest.raises(ParseError):
        decode(b"", ctype)


def test_utf8_charset_label_over_euc_kr_declaration() -> None:
    """The MIME charset wins over the XML declaration (here both are honest about EUC-KR)."""
    body, _ = load("lgt-submit-rsp.http")
    for label in ("euc-kr", "EUC-KR", "ks_c_5601-1987", "ksc5601", "cp949", None):
        ctype = "text/xml" if label is None else f"text/xml; charset={label}"
        message = decode(body, ctype)
        assert isinstance(message, SubmitResponse)
        assert message.status.text == "성공"


def test_resolve_content_false_reads_the_envelope_and_leaves_the_parts() -> None:
    """The routing read: every envelope field as a full decode has it, no content."""
    body, ctype = load("lgt-submit-req.http")
    full = decode(body, ctype)
    head = decode(body, ctype, resolve_content=False)
    assert isinstance(full, SubmitRequest) and isinstance(head, SubmitRequest)
    assert head.content == [] and len(full.content) == 3
    head.content = full.content
    assert head == full


def test_an_undecodable_part_fails_the_full_decode_only() -> None:
    body, ctype = load("lgt-submit-req.http")
    broken = body.replace(JPEG_BASE64, JPEG_BASE64[:-1])  # 1 more than a multiple of 4
    assert broken != body
    with pytest.raises(ParseError, match="invalid base64"):
        decode(broken, ctype)
    head = decode(broken, ctype, resolve_content=False)
    assert isinstance(head, SubmitRequest) and head.transaction_id == "LGT-TX-0001"


def test_ascii_envelope_declared_euc_kr_parses_without_conversion() -> None:
    """ASCII bytes mean the same in EUC-KR and UTF-8: both paths give the same message."""
    body, _ = load("lgt-submit-rsp.http")
    ascii_body = body.replace("성공".encode("euc-kr"), b"Success")
    assert ascii_body.isascii() and b'encoding="euc-kr"' in ascii_body.lower()
    for ctype in ("text/xml", "text/xml; charset=euc-kr", "text/xml; charset=utf-8"):
        message = decode(ascii_body, ctype)
        assert isinstance(message, SubmitResponse) and message.status.text == "Success"
