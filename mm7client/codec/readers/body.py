"""Reading an HTTP body: the SOAP envelope and the content parts it refers to."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from mm7client.codec import mime
from mm7client.codec.mime import DEFAULT_LIMITS, Limits, MimePart
from mm7client.codec.soap import python_codec
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import Part


@dataclass(slots=True)
class SplitBody:
    """An HTTP body split into its SOAP envelope and the other MIME parts."""

    envelope: bytes
    charset: str | None
    parts: list[MimePart]


def split_body(body: bytes, content_type: str | None, limits: Limits = DEFAULT_LIMITS) -> SplitBody:
    """Find the SOAP envelope in an HTTP body (plain XML or multipart/related).

    The envelope is the part named by ``start``, else the first part, else the first part that
    looks like a SOAP envelope.
    """
    if len(body) > limits.max_body_bytes:
        raise BodyTooLargeError("HTTP body", len(body), limits.max_body_bytes)
    media, params = mime.parse_content_type(content_type or "")
    if not media.startswith("multipart/"):
        stripped = body.lstrip()
        if stripped.startswith(b"--") and b"\n" in stripped:
            # multipart without a usable Content-Type: take the boundary from the first line
            first = stripped.split(b"\n", 1)[0].rstrip(b"\r")
            params = {"boundary": first[2:].decode("latin-1")}
            media = "multipart/related"
            body = stripped
        else:
            return SplitBody(body, params.get("charset"), [])
    boundary = params.get("boundary")
    if not boundary:
        raise ParseError(f"multipart Content-Type without boundary: {content_type!r}")
    parts = mime.split_multipart(body, boundary, limits)
    start = params.get("start")
    index: int | None = None
    if start:
        wanted = mime.strip_cid(start)
        for i, part in enumerate(parts):
            if part.content_id == wanted:
                index = i
                break
    if index is None:
        for i, part in enumerate(parts):
            if b"Envelope" in part.body[:2048]:
                index = i
                break
    if index is None:
        index = 0
    soap = parts.pop(index)
    return SplitBody(soap.body, soap.params.get("charset"), parts)


def _text_of(part: MimePart) -> tuple[str | None, str | None]:
    """(text, charset) for text-like parts, (None, charset) for binary ones."""
    ctype = part.content_type
    charset = part.params.get("charset")
    textual = ctype.startswith("text/") or ctype in ("application/smil", "application/xml")
    if not textual:
        return None, charset
    codec = python_codec(charset)
    if codec is None:
        try:
            return part.body.decode("utf-8"), charset
        except UnicodeDecodeError:
            codec = "cp949"
    return part.body.decode(codec, "replace"), charset


def _filename(part: MimePart) -> str | None:
    location = part.content_location
    if location:
        return location
    name = part.params.get("name")
    if name:
        return name
    disposition = part.headers.get("content-disposition")
    if disposition:
        return mime.parse_content_type(disposition)[1].get("filename")
    return None


_STANDARD_HEADERS = frozenset(
    {"content-type", "content-id", "content-location", "content-transfer-encoding"}
)


def _to_part(part: MimePart) -> Part:
    text, charset = _text_of(part)
    extra = {k: v for k, v in part.headers.items() if k not in _STANDARD_HEADERS}
    return Part(
        content_type=part.content_type,
        data=part.body,
        text=text,
        filename=_filename(part),
        content_id=part.content_id,
        charset=charset,
        headers=extra,
    )


def _normalize_href(href: str) -> str:
    value = href.strip()
    if value[:3].lower() == "cid":
        value = value[3:].lstrip(": \t")
    return mime.strip_cid(value)


def resolve_content(
    content: etree._Element | None, parts: list[MimePart], limits: Limits, depth: int = 1
) -> list[Part]:
    if not parts:
        return []
    chosen: MimePart | None = None
    href = content.get("href") if content is not None else None
    if href:
        wanted = _normalize_href(href)
        for part in parts:
            if part.content_id == wanted:
                chosen = part
                break
        if chosen is None:
            lowered = wanted.lower()
            for part in parts:
                cid = part.content_id
                location = part.content_location
                if (cid and cid.lower() == lowered) or (location and location == wanted):
                    chosen = part
                    break
    if chosen is None:
        chosen = parts[0]
    return _expand(chosen, limits, depth)


def _expand(part: MimePart, limits: Limits, depth: int) -> list[Part]:
    if not part.content_type.startswith("multipart/"):
        return [_to_part(part)]
    if depth >= limits.max_depth:
        raise ParseError(f"MIME nesting deeper than {limits.max_depth} levels")
    boundary = part.params.get("boundary")
    if not boundary:
        raise ParseError("multipart content part without boundary")
    result: list[Part] = []
    for sub in mime.split_multipart(part.body, boundary, limits):
        result.extend(_expand(sub, limits, depth + 1))
        if len(result) > limits.max_parts:
            raise ParseError(f"content has more than {limits.max_parts} parts", status_code=2004)
    return result
