"""Hostile MM7 bodies, built from a valid one: one builder per class of attack.

Each builder takes a valid plain-XML MM7 body (a SOAP envelope) and returns
``(body, content_type)`` (``content_type`` ``None``: no Content-Type header at all).
"""

from __future__ import annotations

from collections.abc import Callable

LOL = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
XML = 'text/xml; charset="utf-8"'


def _split_prolog(envelope: bytes) -> tuple[bytes, bytes]:
    """(XML declaration, rest) of a document."""
    if envelope.startswith(b"<?xml"):
        end = envelope.index(b"?>") + 2
        return envelope[:end], envelope[end:]
    return b"", envelope


def _with_doctype(envelope: bytes, doctype: str, reference: str = "") -> bytes:
    declaration, rest = _split_prolog(envelope)
    if reference:
        cut = rest.index(b"</")  # inside the first element that has text
        rest = rest[:cut] + reference.encode() + rest[cut:]
    return declaration + doctype.encode() + rest


def billion_laughs(envelope: bytes) -> tuple[bytes, str | None]:
    return _with_doctype(envelope, LOL, "&lol9;"), XML


def external_entity(envelope: bytes) -> tuple[bytes, str | None]:
    doctype = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return _with_doctype(envelope, doctype, "&xxe;"), XML


def external_dtd(envelope: bytes) -> tuple[bytes, str | None]:
    doctype = '<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/mm7.dtd">'
    return _with_doctype(envelope, doctype), XML


def deep_nesting(envelope: bytes) -> tuple[bytes, str | None]:
    depth = 50_000
    cut = envelope.index(b"</")
    nested = b"<a>" * depth + b"</a>" * depth
    return envelope[:cut] + nested + envelope[cut:], XML


def huge_attribute(envelope: bytes) -> tuple[bytes, str | None]:
    declaration, rest = _split_prolog(envelope)
    end = rest.index(b">")  # the root element's start tag
    value = b"A" * (1_500_000)
    return declaration + rest[:end] + b' junk="' + value + b'"' + rest[end:], XML


def _multipart(envelope: bytes, parts: list[bytes], boundary: str = "B") -> bytes:
    head = f"--{boundary}\r\nContent-Type: text/xml\r\nContent-ID: <soap>\r\n\r\n".encode()
    body = head + envelope + b"\r\n"
    for part in parts:
        body += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def thousands_of_parts(envelope: bytes) -> tuple[bytes, str | None]:
    part = b"Content-Type: text/plain\r\n\r\nx"
    body = _multipart(envelope, [part] * 5000)
    return body, 'multipart/related; boundary="B"; type="text/xml"'


def endless_boundary(envelope: bytes) -> tuple[bytes, str | None]:
    boundary = "x" * 5000  # far past RFC 2046's 70, still under the HTTP header line limit
    return _multipart(envelope, [], boundary), f"multipart/related; boundary={boundary}"


def endless_delimiter(envelope: bytes) -> tuple[bytes, str | None]:
    body = _multipart(envelope, [])[:-8] + b"--B" + b"-" * 1_000_000  # a line that never ends
    return body, 'multipart/related; boundary="B"; type="text/xml"'


def over_the_limit(envelope: bytes) -> tuple[bytes, str | None]:
    return envelope + b" " * (3 * 1024 * 1024), XML


def wrong_content_type(envelope: bytes) -> tuple[bytes, str | None]:
    return b'{"not": "mm7"}', "application/json"


def missing_content_type(envelope: bytes) -> tuple[bytes, str | None]:
    return b"\x00\x01\x02\x03 binary junk \xff\xfe", None


def invalid_charset(envelope: bytes) -> tuple[bytes, str | None]:
    cut = envelope.index(b"</")
    return envelope[:cut] + b"\xff\xfe\xc3" + envelope[cut:], XML


def invalid_base64(envelope: bytes) -> tuple[bytes, str | None]:
    part = b"Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQS"
    return _multipart(envelope, [part]), 'multipart/related; boundary="B"; type="text/xml"'


def malformed_part_header(envelope: bytes) -> tuple[bytes, str | None]:
    part = b"Content-Type: text/plain\r\nthis line has no colon\r\n\r\nhello"
    return _multipart(envelope, [part]), 'multipart/related; boundary="B"; type="text/xml"'


HOSTILE: dict[str, Callable[[bytes], tuple[bytes, str | None]]] = {
    "billion-laughs": billion_laughs,
    "external-entity": external_entity,
    "external-dtd": external_dtd,
    "deep-nesting": deep_nesting,
    "huge-attribute": huge_attribute,
    "thousands-of-parts": thousands_of_parts,
    "endless-boundary": endless_boundary,
    "endless-delimiter": endless_delimiter,
    "over-the-limit": over_the_limit,
    "wrong-content-type": wrong_content_type,
    "missing-content-type": missing_content_type,
    "invalid-charset": invalid_charset,
    "invalid-base64": invalid_base64,
    "malformed-part-header": malformed_part_header,
}
