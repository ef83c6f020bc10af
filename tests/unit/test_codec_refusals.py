"""What a refusal tells a server: the MM7 status to answer and the TransactionID to echo; a
truncated body is refused (2007), never read as if whole."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from mm7client.codec import Limits, decode, encode, find_transaction_id, summarize_request
from mm7client.codec.mime import split_multipart
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import CancelRequest, Part, SoapFault, Status, SubmitRequest
from mm7client.profiles import LGT, THREEGPP

Reader = Callable[[bytes, str], object]
READERS: dict[str, Reader] = {
    "decode": lambda body, ctype: decode(body, ctype),
    "summarize_request": lambda body, ctype: summarize_request(body, ctype),
}


def refusal(reader: Reader, body: bytes, content_type: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        reader(body, content_type)
    return caught.value


def submit(tid: str = "TX-echo-1") -> SubmitRequest:
    return SubmitRequest(
        transaction_id=tid,
        to=["01012345678"],
        vasp_id="VASP",
        vas_id="VAS",
        kisa_orig_code="123456789",
        callback="15881234",
        subject="hello",
    )


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_a_request_refused_for_its_fields_carries_its_transaction_id(reader: Reader) -> None:
    encoded = encode(submit(), LGT)
    no_recipients = encoded.body.replace(b"<To><Number>01012345678</Number></To>", b"")
    error = refusal(reader, no_recipients, encoded.content_type)
    assert (error.status_code, error.transaction_id) == (4004, "TX-echo-1")
    cancel = encode(CancelRequest(transaction_id="TX-c", message_id="M1"), THREEGPP)
    unknown = cancel.body.replace(b"CancelReq", b"ForwardReq")
    error = refusal(reader, unknown, cancel.content_type)
    assert (error.status_code, error.transaction_id) == (4003, "TX-c")


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_a_body_broken_after_its_header_still_tells_its_transaction_id(reader: Reader) -> None:
    encoded = encode(CancelRequest(transaction_id="T&<1>", message_id="M1"), THREEGPP)
    body = encoded.body
    broken = body[: body.index(b"<MessageID>")] + b"<MessageID>M1</Oops>"
    error = refusal(reader, broken, encoded.content_type)
    assert error.status_code == 2007
    assert error.transaction_id == "T&<1>"  # read textually, entities resolved
    # the header itself cut: nothing to echo
    cut = body[: body.index(b"T&amp;") + 3]
    assert refusal(reader, cut, encoded.content_type).transaction_id is None


def test_a_body_over_the_size_limit_tells_its_transaction_id() -> None:
    encoded = encode(submit("TX-big"), LGT)
    with pytest.raises(BodyTooLargeError) as caught:
        decode(encoded.body, encoded.content_type, Limits(max_body_bytes=100))
    assert caught.value.transaction_id == "TX-big"


def test_the_fault_echoes_the_transaction_id_of_a_refused_request() -> None:
    encoded = encode(submit("TX-fault-9"), LGT)
    truncated = encoded.body[: len(encoded.body) // 2]
    error = refusal(READERS["summarize_request"], truncated, encoded.content_type)
    fault = SoapFault(
        transaction_id=error.transaction_id,
        fault_code="Client",
        fault_string=str(error),
        status=Status.of(error.status_code),
    )
    written = encode(fault, LGT)
    answer = decode(written.body, written.content_type)
    assert isinstance(answer, SoapFault)
    assert answer.transaction_id == "TX-fault-9"
    assert answer.status is not None and answer.status.code == "2007"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<env:Header><mm7:TransactionID x='1'> T1 </mm7:TransactionID>", "T1"),
        (b'<TransactionID xmlns="urn:x">A&amp;B</TransactionID>', "A&B"),
        (b"<a:TransactionID>\xc7\xd1</a:TransactionID>", "\ud55c"),  # EUC-KR
        (b"<TransactionID>bad&#1;</TransactionID>", None),  # a fault could not carry it
        (b"<TransactionID></TransactionID>", None),
        (b"<TransactionID>cut", None),
        (b"", None),
        (b"\xff\xfe<\x00T\x00", None),
    ],
)
def test_find_transaction_id(body: bytes, expected: str | None) -> None:
    assert find_transaction_id(body) == expected


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 80 + b"\xff\xd9"


def jpeg_submit() -> SubmitRequest:
    message = submit("TX-cut-1")
    message.content = [Part.from_text("본문"), Part.jpeg(JPEG, filename="a.jpg")]
    return message


def cuts(body: bytes, boundary: bytes) -> dict[str, bytes]:
    """The same body cut in the ways a connection cuts it."""
    close = b"--" + boundary + b"--"
    end = body.rindex(close)
    return {
        "before the closing delimiter": body[:end],
        "inside the closing delimiter": body[: end + len(close) - 1],
        "inside the JPEG": body[: body.index(b"Content-Transfer-Encoding: base64") + 2000],
        "inside a part's headers": body[: body.index(b"Content-Transfer-Encoding: base64") + 12],
    }


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_a_truncated_multipart_body_is_refused_as_a_format_error(reader: Reader) -> None:
    encoded = encode(jpeg_submit(), LGT)
    boundary = encoded.content_type.split('boundary="', 1)[1].split('"', 1)[0].encode()
    reader(encoded.body, encoded.content_type)  # whole, it reads
    for where, body in cuts(encoded.body, boundary).items():
        error = refusal(reader, body, encoded.content_type)
        assert error.status_code == 2007, where
        assert "truncated" in str(error), where
        # the SOAP header came whole: the fault can echo the TransactionID
        assert error.transaction_id == "TX-cut-1", where


def test_a_part_cut_in_its_headers_is_refused_even_with_a_closing_delimiter() -> None:
    body = (
        b"--B\r\nContent-Type: text/xml\r\n\r\n<x/>\r\n"
        b"--B\r\nContent-Type: image/jpeg\r\nContent-Transfer-Enc\r\n--B--\r\n"
    )
    with pytest.raises(ParseError, match="cut in its headers") as caught:
        split_multipart(body, "B")
    assert caught.value.status_code == 2007


def test_a_truncated_inner_multipart_is_refused_by_decode() -> None:
    encoded = encode(jpeg_submit(), LGT)
    body = encoded.body
    # the content's own multipart loses its closing delimiter; the outer body stays whole
    inner = re.search(rb'boundary="(----=_MM7_[0-9a-f]+)"; type="application/smil"', body)
    assert inner is not None
    cut = body.replace(b"--" + inner.group(1) + b"--", b"")
    with pytest.raises(ParseError, match="truncated") as caught:
        decode(cut, encoded.content_type)
    assert caught.value.status_code == 2007
