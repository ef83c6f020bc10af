"""Hostile input: entity bombs, external entities and DTDs (nothing fetched), deep nesting, huge
bodies, MIME part floods, endless boundaries and invalid base64 all end in ParseError."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from mm7client.codec import Limits, decode, split_body
from mm7client.codec.mime import split_multipart
from mm7client.codec.soap import parse_xml
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import DeliverRequest, SubmitResponse

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"

SUBMIT_RSP = (
    f'<env:Envelope xmlns:env="{ENV}"><env:Body><mm7:SubmitRsp xmlns:mm7="{NS}">'
    "<mm7:MM7Version>6.8.0</mm7:MM7Version><mm7:Status><mm7:StatusCode>1000</mm7:StatusCode>"
    "<mm7:StatusText>{text}</mm7:StatusText></mm7:Status><mm7:MessageID>m1</mm7:MessageID>"
    "</mm7:SubmitRsp></env:Body></env:Envelope>"
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""" + SUBMIT_RSP.format(text="&lol9;")


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A loopback TCP listener that records whether anybody connected."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    try:
        yield server, server.getsockname()[1]
    finally:
        server.close()


def assert_nobody_connected(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        connection, _ = server.accept()
        connection.close()


def hostile_documents(port: int, secret: Path) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {
        "external entity (http)": (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{url}/x">]>'
            + SUBMIT_RSP.format(text="&x;")
        ),
        "external entity (file)": (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
            + SUBMIT_RSP.format(text="&x;")
        ),
        "external DTD": (
            f'<?xml version="1.0"?><!DOCTYPE Envelope SYSTEM "{url}/mm7.dtd">'
            + SUBMIT_RSP.format(text="ok")
        ),
        "parameter entity": (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>'
            + SUBMIT_RSP.format(text="ok")
        ),
        "public DTD": (
            '<?xml version="1.0"?><!DOCTYPE Envelope PUBLIC "-//X//DTD X//EN" '
            f'"{url}/public.dtd">' + SUBMIT_RSP.format(text="ok")
        ),
        "lower-case doctype": (f'<!doctype r SYSTEM "{url}/d">' + SUBMIT_RSP.format(text="ok")),
    }


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(ParseError) as caught:
        decode(BILLION_LAUGHS.encode(), "text/xml")
    assert caught.value.status_code == 2007
    assert "DOCTYPE" in str(caught.value)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "euc-kr"])
def test_entities_and_dtds_are_refused_and_nothing_is_fetched(
    encoding: str, listener: tuple[socket.socket, int], tmp_path: Path
) -> None:
    server, port = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for name, document in {
        "billion laughs": BILLION_LAUGHS,
        **hostile_documents(port, secret),
    }.items():
        if encoding != "utf-8":
            document = document.replace('<?xml version="1.0"?>', "")
            if encoding == "euc-kr":
                document = f'<?xml version="1.0" encoding="{encoding}"?>' + document
        body = document.encode(encoding)
        for ctype in (f"text/xml; charset={encoding}", "text/xml", None):
            with pytest.raises(ParseError) as caught:
                decode(body, ctype)
            assert "TOP-SECRET" not in str(caught.value), name
    assert_nobody_connected(server)


def test_deeply_nested_xml_is_refused() -> None:
    deep = "<a>" * 100 + "x" + "</a>" * 100
    body = SUBMIT_RSP.format(text="ok").replace("<mm7:MessageID>m1", f"<mm7:MessageID>{deep}")
    with pytest.raises(ParseError, match="deeper than 64"):
        decode(body.encode(), "text/xml")
    # a configurable limit
    shallow = SUBMIT_RSP.format(text="ok").encode()
    with pytest.raises(ParseError, match="deeper than 3"):
        decode(shallow, "text/xml", Limits(max_xml_depth=3))
    # self-closing leaves and UTF-16 (where "</" is not a byte sequence) are counted too
    leaf = "<a>" * 70 + "<a/>" + "</a>" * 70
    body = SUBMIT_RSP.format(text="ok").replace("<mm7:MessageID>m1", f"<mm7:MessageID>{leaf}")
    for data, ctype in ((body.encode(), "text/xml"), (body.encode("utf-16"), "text/xml")):
        with pytest.raises(ParseError, match="deeper than 64"):
            decode(data, ctype)
    # extremely deep documents stop in the parser, without recursion errors
    very_deep = ("<a>" * 100_000 + "</a>" * 100_000).encode()
    with pytest.raises(ParseError):
        decode(very_deep, "text/xml")


def test_normal_documents_pass_the_depth_check() -> None:
    message = decode(SUBMIT_RSP.format(text="ok").encode(), "text/xml")
    assert isinstance(message, SubmitResponse) and message.message_id == "m1"


def test_huge_bodies_over_the_limits() -> None:
    limits = Limits(max_body_bytes=10_000, max_xml_bytes=5_000)
    big = SUBMIT_RSP.format(text="x" * 20_000).encode()
    with pytest.raises(BodyTooLargeError) as caught:
        decode(big, "text/xml", limits)
    assert caught.value.size == len(big) and caught.value.limit == 10_000
    middle = SUBMIT_RSP.format(text="x" * 6_000).encode()
    with pytest.raises(BodyTooLargeError) as caught:
        decode(middle, "text/xml", limits)
    assert caught.value.limit == 5_000
    assert isinstance(caught.value, ParseError)


def test_default_limits_refuse_an_11_mb_body() -> None:
    body = b"--b\r\n\r\n" + b"x" * (11 * 1024 * 1024)
    with pytest.raises(BodyTooLargeError):
        decode(body, "multipart/related; boundary=b")
    with pytest.raises(BodyTooLargeError):
        split_body(body, "multipart/related; boundary=b")


def _multipart(count: int, boundary: str = "B") -> bytes:
    soap = SUBMIT_RSP.format(text="ok")
    part = f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (
        f"--{boundary}\r\nContent-Type: text/xml\r\n\r\n{soap}\r\n"
        + part * count
        + f"--{boundary}--\r\n"
    ).encode()


def test_mime_with_thousands_of_parts() -> None:
    body = _multipart(5000)
    with pytest.raises(ParseError, match="more than 100 parts") as caught:
        decode(body, "multipart/related; boundary=B")
    assert caught.value.status_code == 2004
    with pytest.raises(ParseError):
        split_multipart(body, "B")
    # right at the limit it parses
    assert len(split_multipart(_multipart(99), "B")) == 100


def test_nested_parts_count_against_the_limit() -> None:
    inner = "".join("--I\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(60))
    content = f"Content-Type: multipart/mixed; boundary=I\r\n\r\n{inner}--I--"
    soap = SUBMIT_RSP.format(text="ok").replace("SubmitRsp", "DeliverReq")
    soap = soap.replace("<mm7:Status>", "").replace("</mm7:Status>", "")
    body = f"--O\r\nContent-Type: text/xml\r\n\r\n{soap}\r\n"
    body += "".join(f"--O\r\n{content}\r\n" for _ in range(2)) + "--O--\r\n"
    limits = Limits(max_parts=50)
    with pytest.raises(ParseError):
        decode(body.encode(), "multipart/related; boundary=O", limits)


def test_mime_nesting_deeper_than_the_limit() -> None:
    content = "Content-Type: text/plain\r\n\r\nleaf"
    for level in range(6):
        content = (
            f"Content-Type: multipart/mixed; boundary=L{level}\r\n\r\n"
            f"--L{level}\r\n{content}\r\n--L{level}--"
        )
    soap = (
        f'<env:Envelope xmlns:env="{ENV}"><env:Body><mm7:DeliverReq xmlns:mm7="{NS}">'
        '<mm7:MM7Version>6.8.0</mm7:MM7Version><mm7:Content href="cid:c"/>'
        "</mm7:DeliverReq></env:Body></env:Envelope>"
    )
    body = f"--O\r\nContent-Type: text/xml\r\n\r\n{soap}\r\n"
    body += f"--O\r\nContent-ID: <c>\r\n{content}\r\n--O--"
    with pytest.raises(ParseError, match="nesting deeper than 3"):
        decode(body.encode(), "multipart/related; boundary=O")
    message = decode(body.encode(), "multipart/related; boundary=O", Limits(max_depth=10))
    assert isinstance(message, DeliverRequest)
    assert [p.text for p in message.content] == ["leaf"]


def test_endless_boundary() -> None:
    # a boundary parameter far longer than RFC 2046 allows
    endless = "x" * 100_000
    with pytest.raises(ParseError, match="invalid multipart boundary"):
        decode(f"--{endless}\r\n\r\n".encode(), f"multipart/related; boundary={endless}")
    # a body that is nothing but delimiters
    with pytest.raises(ParseError):
        decode(b"--B\r\n" * 200_000, "multipart/related; boundary=B")
    # a delimiter line that never ends
    with pytest.raises(ParseError):
        decode(b"--B" + b"-" * 1_000_000, "multipart/related; boundary=B")
    # no close delimiter: the body is truncated, refused (it was read leniently before)
    body = _multipart(1).rsplit(b"--B--", 1)[0]
    with pytest.raises(ParseError, match="truncated") as caught:
        split_body(body, "multipart/related; boundary=B")
    assert caught.value.status_code == 2007


def test_boundary_absent_from_the_body() -> None:
    with pytest.raises(ParseError, match="not found"):
        decode(SUBMIT_RSP.format(text="ok").encode(), "multipart/related; boundary=nothere")
    with pytest.raises(ParseError, match="without boundary"):
        decode(b"--x\r\n", "multipart/related")


def test_huge_mime_header_block() -> None:
    header = "X-Junk: " + "j" * 20_000
    body = f"--B\r\n{header}\r\n\r\nx\r\n--B--".encode()
    with pytest.raises(BodyTooLargeError):
        decode(body, "multipart/related; boundary=B")


def test_invalid_base64() -> None:
    soap = (
        f'<env:Envelope xmlns:env="{ENV}"><env:Body><mm7:DeliverReq xmlns:mm7="{NS}">'
        "<mm7:MM7Version>6.8.0</mm7:MM7Version></mm7:DeliverReq></env:Body></env:Envelope>"
    )

    def body(payload: str, encoding: str = "base64") -> bytes:
        return (
            f"--B\r\nContent-Type: text/xml\r\n\r\n{soap}\r\n--B\r\nContent-Type: image/jpeg\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n{payload}\r\n--B--"
        ).encode()

    with pytest.raises(ParseError, match="base64") as caught:
        decode(body("/9j/4AAQS"), "multipart/related; boundary=B")
    assert caught.value.status_code == 2007
    # a SOAP part in broken base64 too
    broken_soap = b"--B\r\nContent-Transfer-Encoding: base64\r\n\r\nPGVudj===x\r\n--B--"
    with pytest.raises(ParseError):
        decode(broken_soap, "multipart/related; boundary=B")
    # characters outside the alphabet are skipped as RFC 2045 says, valid data survives
    message = decode(body("/9j/\r\n4A==!"), "multipart/related; boundary=B")
    assert isinstance(message, DeliverRequest)
    assert message.content[0].data == b"\xff\xd8\xff\xe0"


def test_malformed_mime_headers() -> None:
    body = b"--B\r\nthis line has no colon\r\n\r\nx\r\n--B--"
    with pytest.raises(ParseError, match="malformed MIME header"):
        decode(body, "multipart/related; boundary=B")


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"not xml at all",
        b"\x00\xff\xfe garbage",
        b"<?xml version='1.0'?><Envelope/>",
        f'<env:Envelope xmlns:env="{ENV}"/>'.encode(),
        f'<env:Envelope xmlns:env="{ENV}"><env:Body/></env:Envelope>'.encode(),
        f'<env:Envelope xmlns:env="{ENV}"><env:Body><x:Unknown xmlns:x="urn:x"/></env:Body>'
        "</env:Envelope>".encode(),
        f'<env:Envelope xmlns:env="{ENV}"><env:Body><SubmitRsp/></env:Body>'
        "</env:Envelope>".encode(),
        SUBMIT_RSP.format(text="ok").encode()[:-20],
    ],
)
def test_not_mm7_is_a_parse_error_with_a_status(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        decode(body, "text/xml")
    assert caught.value.status_code in (2007, 4003, 4004)


def test_unsupported_operation_and_missing_fields_have_their_status() -> None:
    unknown = f'<env:Envelope xmlns:env="{ENV}"><env:Body><mm7:QueryStatusReq xmlns:mm7="{NS}"/>'
    with pytest.raises(ParseError) as caught:
        decode((unknown + "</env:Body></env:Envelope>").encode(), "text/xml")
    assert caught.value.status_code == 4003
    no_status = SUBMIT_RSP.format(text="x").replace("<mm7:StatusCode>1000</mm7:StatusCode>", "")
    with pytest.raises(ParseError) as caught:
        decode(no_status.encode(), "text/xml")
    assert caught.value.status_code == 4004


def test_parse_xml_limit_and_charset_errors() -> None:
    with pytest.raises(BodyTooLargeError):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", limits=Limits(max_xml_bytes=50))
    with pytest.raises(ParseError, match="not valid"):
        parse_xml("<a>한글</a>".encode("euc-kr"), "utf-8-sig")
