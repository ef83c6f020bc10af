"""``summarize_request``: the envelope fields an MMSC answers from, read without decoding.

It must agree with ``decode`` on every field and refuse what ``decode`` refuses (the property
tests in ``tests/fuzz`` check that on generated and mutated bodies); here: every golden input,
the carrier quirks it must follow, and what it deliberately leaves to the full decode.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from summary_oracle import assert_summary_agrees

from mm7client.codec import Limits, decode, encode, summarize_request
from mm7client.errors import ParseError
from mm7client.model import (
    CancelRequest,
    Part,
    ReplaceRequest,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-5-MM7-1-2"


def _golden(path: Path) -> tuple[bytes, str]:
    head, body = path.read_bytes().split(b"\r\n\r\n", 1)
    return body, head.decode("ascii").partition(":")[2].strip()


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.http")), ids=lambda p: p.stem)
def test_every_golden_input_summarizes_as_it_decodes(path: Path) -> None:
    body, content_type = _golden(path)
    assert_summary_agrees(body, content_type, Limits())


def test_lgt_submit_req_fields() -> None:
    body, content_type = _golden(GOLDEN / "lgt-submit-req.http")
    summary = summarize_request(body, content_type)
    assert summary.operation == "SubmitReq"
    assert summary.vas_id == "MYSERVICE"
    assert summary.recipients == ("01012345678",)
    assert summary.sender_address == "0212345678"
    assert summary.kisa_orig_code == "123456789"
    assert summary.delivery_report is True


def _envelope(operation_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header>'
        f'<mm7:TransactionID xmlns:mm7="{NS}">T-1</mm7:TransactionID></env:Header>'
        f"<env:Body>{operation_xml}</env:Body></env:Envelope>"
    ).encode()


def test_flat_sender_identification_and_password_outside_it() -> None:
    """Carriers that write VASID flat under SubmitReq, and AuthPassword next to the
    SenderIdentification instead of inside it: read where decode reads them."""
    body = _envelope(
        f'<mm7:SubmitReq xmlns:mm7="{NS}"><MM7Version>5.3.0</MM7Version>'
        "<VASPID>CP</VASPID><VASID>SVC</VASID><CallBack>15881234</CallBack>"
        "<AuthPassword>secret</AuthPassword>"
        "<Recipients><Cc><Number>0101</Number></Cc><To><Number>0102</Number></To></Recipients>"
        "<Subject>  hi  </Subject></mm7:SubmitReq>"
    )
    summary = summarize_request(body, "text/xml")
    assert (summary.vasp_id, summary.vas_id, summary.auth_password) == ("CP", "SVC", "secret")
    assert summary.callback == "15881234" and summary.sender_address is None
    assert summary.recipients == ("0102", "0101")  # To, then Cc, as decode orders them
    assert summary.subject == "hi"
    assert "secret" not in repr(summary)
    assert_summary_agrees(body, "text/xml", Limits())


@pytest.mark.parametrize(
    ("operation_xml", "status"),
    [
        (f'<mm7:SubmitReq xmlns:mm7="{NS}"><Subject>x</Subject></mm7:SubmitReq>', 4004),
        (f'<mm7:CancelReq xmlns:mm7="{NS}"><VASID>S</VASID></mm7:CancelReq>', 4004),
        (f'<mm7:FetchReq xmlns:mm7="{NS}"/>', 4003),
        (
            f'<mm7:DeliveryReportReq xmlns:mm7="{NS}"><MessageID>m</MessageID>'
            "</mm7:DeliveryReportReq>",
            4004,
        ),
    ],
    ids=["no-recipients", "cancel-without-message-id", "unknown-operation", "report-no-recipient"],
)
def test_refused_like_decode(operation_xml: str, status: int) -> None:
    body = _envelope(operation_xml)
    with pytest.raises(ParseError) as refused:
        summarize_request(body, "text/xml")
    assert refused.value.status_code == status
    assert_summary_agrees(body, "text/xml", Limits())


@pytest.mark.parametrize("profile", [LGT, THREEGPP], ids=lambda p: p.name)
def test_cancel_and_replace(profile: CarrierProfile) -> None:
    for message in (
        CancelRequest(transaction_id="T-9", message_id="M-1", vas_id="SVC"),
        ReplaceRequest(transaction_id="T-9", message_id="M-1", vas_id="SVC"),
    ):
        encoded = encode(message, profile)
        summary = summarize_request(encoded.body, encoded.content_type)
        assert (summary.transaction_id, summary.message_id, summary.vas_id) == ("T-9", "M-1", "SVC")
        assert summary.recipients == ()


def test_a_malformed_content_part_header_is_left_to_the_full_decode() -> None:
    """The content parts' headers are read when the content is: the envelope still answers."""
    message = SubmitRequest(
        to=["01012345678"],
        vas_id="SVC",
        kisa_orig_code="123456789",
        content=[Part.from_text("안녕")],
    )
    encoded = encode(message, LGT)
    broken = encoded.body.replace(b"Content-Type: text/plain", b"Content-Type text/plain", 1)
    assert broken != encoded.body
    summary = summarize_request(broken, encoded.content_type)
    assert summary.recipients == ("01012345678",)
    with pytest.raises(ParseError, match="malformed MIME header"):
        decode(broken, encoded.content_type)


@pytest.mark.parametrize("charset", ["utf-16", "utf-8", "euc-kr"])
def test_envelopes_encode_in_any_charset(charset: str) -> None:
    """The envelope's fixed text is encoded once per profile, the variable text per message;
    a charset that is not ASCII-compatible is encoded in one pass (UTF-16: one BOM)."""
    codec = {"utf-16": "utf-16", "utf-8": "utf-8", "euc-kr": "euc_kr"}[charset]
    profile = LGT.replace(charset=charset, codec=codec)
    answer = SubmitResponse(
        transaction_id="T&<1>", status=Status.of(1000, "성공"), message_id="M-1"
    )
    encoded = encode(answer, profile)
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitResponse)
    assert decoded.transaction_id == "T&<1>" and decoded.status.text == "성공"
    assert decoded.message_id == "M-1"
    if charset == "utf-16":
        assert encoded.body.decode("utf-16").startswith('<?xml version="1.0" encoding="utf-16"?>')
