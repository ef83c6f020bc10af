"""MIME for MM7: build ``multipart/related`` bodies by joining bytes, and split them leniently.

Building never uses :mod:`email.mime` (slow, and it mangles binary parts). Splitting is a small
bounded parser: it accepts the quirks real MMSCs send (Content-ID without angle brackets, a
missing ``start``, bare-LF line endings, every transfer encoding) and refuses what would cost
unbounded memory or time (too many parts, too deep nesting, oversized bodies) and what is
truncated: a multipart body without its closing delimiter ``--boundary--``, a part cut in its
header block (status 2007, so the sender retries rather than having a cut message acknowledged).
"""

from __future__ import annotations

import binascii
import functools
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mm7client.errors import BodyTooLargeError, ParseError, ValidationError

__all__ = [
    "Limits",
    "MimePart",
    "build_multipart",
    "build_part",
    "decode_transfer_encoding",
    "encode_base64_lines",
    "new_boundary",
    "new_content_id",
    "parse_content_type",
    "split_multipart",
]

CRLF = b"\r\n"

# What may follow a boundary delimiter: the close marker, transport padding, the line end, or
# the end of the body.
_DELIMITER_FOLLOWERS = frozenset({b"-", b" ", b"\t", b"\r", b"\n", b""})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds every parser honours; exceeded bounds raise :class:`ParseError` subclasses."""

    max_body_bytes: int = 10 * 1024 * 1024
    max_xml_bytes: int = 1024 * 1024
    max_parts: int = 100
    max_depth: int = 3
    max_header_bytes: int = 16 * 1024
    max_xml_depth: int = 64


DEFAULT_LIMITS = Limits()


class MimePart:
    """One part of a split multipart body: headers (lower-cased names) and its bytes.

    Both are read on first use, so a peer that only routes a part never pays for it:
    :attr:`headers` parses the part's header block the first time it is read (raising
    :class:`ParseError` for a malformed line), :attr:`encoded` is the body as it was on the
    wire (split from a multipart body: a view into it, nothing copied) and :attr:`body` undoes
    the Content-Transfer-Encoding on first use.
    """

    __slots__ = ("_body", "_head", "_headers", "encoded")

    def __init__(
        self,
        headers: dict[str, str] | None = None,
        encoded: bytes | memoryview = b"",
        *,
        head: bytes | None = None,
    ) -> None:
        self._head = head
        # with a header block, the headers are parsed from it when first read
        self._headers: dict[str, str] | None = None if head is not None else (headers or {})
        self.encoded = encoded
        self._body: bytes | None = None

    def __repr__(self) -> str:
        return f"MimePart(headers={self.headers!r}, size={len(self.encoded)})"

    @property
    def headers(self) -> dict[str, str]:
        """The header fields by lower-cased name (parsed now if not yet)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _parse_headers(self._head or b"")
        return headers

    @property
    def body(self) -> bytes:
        """The body with its transfer encoding undone (raises :class:`ParseError` if invalid)."""
        body = self._body
        if body is None:
            body = decode_transfer_encoding(
                self.encoded, self.headers.get("content-transfer-encoding")
            )
            self._body = body
        return body

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters (``text/plain`` when absent)."""
        return parse_content_type(self.headers.get("content-type", "text/plain"))[0]

    @property
    def params(self) -> dict[str, str]:
        """The Content-Type parameters (names lower-cased)."""
        return parse_content_type(self.headers.get("content-type", "text/plain"))[1]

    @property
    def content_id(self) -> str | None:
        """Content-ID without angle brackets or surrounding blanks."""
        value = self.headers.get("content-id")
        return strip_cid(value) if value is not None else None

    @property
    def content_location(self) -> str | None:
        """Content-Location, stripped."""
        value = self.headers.get("content-location")
        return value.strip() if value is not None else None


def new_boundary() -> str:
    """A fresh MIME boundary that cannot appear in base64 or XML content by accident."""
    return "----=_MM7_" + secrets.token_hex(12)


def new_content_id(hint: str = "part") -> str:
    """A unique Content-ID (without angle brackets)."""
    return f"{hint}-{secrets.token_hex(8)}@mm7"


def strip_cid(value: str) -> str:
    """``<abc>`` / `` abc `` / ``cid:abc`` -> ``abc``."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    if value[:4].lower() == "cid:":
        value = value[4:].strip()
    return value


_TOKEN_PARAM = re.compile(
    r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)',
)


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its lower-cased media type and parameters.

    Quoted values are unquoted; parameter names are lower-cased. Never raises.
    """
    if len(value) > 1024:
        return _parse_content_type(value)
    media, params = _cached_content_type(value)
    return media, dict(params)


def _parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    if rest:
        for name, raw in _TOKEN_PARAM.findall(";" + rest):
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
                raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            params[name.lower()] = raw
    return main.strip().lower(), params


_BASE64_LINE = re.compile(rb".{1,76}")


# peers send the same few Content-Type values over and over
_cached_content_type = functools.lru_cache(maxsize=256)(_parse_content_type)


def encode_base64_lines(data: bytes) -> bytes:
    """Base64 with CRLF line breaks every 76 characters (RFC 2045).

    Large inputs are cached (a few entries): a bulk send of one image to many recipients - one
    SubmitReq each on LGT - encodes it once.
    """
    if len(data) >= _CACHE_MIN_BYTES:
        return _cached_base64_lines(data)
    return _base64_lines(data)


def _base64_lines(data: bytes) -> bytes:
    encoded = binascii.b2a_base64(data, newline=False)
    if len(encoded) <= 76:
        return encoded
    # base64 holds no line breaks, so "." matches every character
    return CRLF.join(_BASE64_LINE.findall(encoded))


_CACHE_MIN_BYTES = 4096
_cached_base64_lines = functools.lru_cache(maxsize=8)(_base64_lines)


def build_part(headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """One MIME entity: header lines, a blank line, the body."""
    lines = []
    for name, value in headers:
        line = f"{name}: {value}\r\n"
        if not line.isascii():
            raise ValidationError(f"MIME header {name}", value, "only ASCII can be written here")
        if "\r" in line[:-2] or "\n" in line[:-2]:
            raise ValidationError(f"MIME header {name}", value, "line breaks are not allowed")
        lines.append(line)
    return "".join(lines).encode("ascii") + CRLF + body


def build_multipart(boundary: str, parts: Iterable[bytes]) -> bytes:
    """Join already-built entities into a multipart body with ``boundary``."""
    delimiter = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = []
    for part in parts:
        chunks.append(delimiter)
        chunks.append(CRLF)
        chunks.append(part)
        chunks.append(CRLF)
    chunks.append(delimiter)
    chunks.append(b"--\r\n")
    return b"".join(chunks)


def decode_transfer_encoding(body: bytes | memoryview, encoding: str | None) -> bytes:
    """Undo a Content-Transfer-Encoding (base64, quoted-printable, 7bit, 8bit, binary)."""
    name = (encoding or "").strip().lower()
    if name == "base64":
        try:
            return binascii.a2b_base64(body, strict_mode=False)
        except binascii.Error as exc:
            raise ParseError(f"invalid base64 in a MIME part: {exc}") from exc
    if name == "quoted-printable":
        return binascii.a2b_qp(body)
    return bytes(body)


def _parse_headers(block: bytes) -> dict[str, str]:
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("cp949", "replace")
    headers: dict[str, str] = {}
    last: str | None = None
    for line in text.split("\n"):
        if not line or line == "\r":
            continue
        if line[0] in " \t" and last is not None:  # a folded continuation line
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ParseError(f"malformed MIME header line {line.rstrip()[:80]!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


def _split_entity(body: bytes, start: int, end: int, limits: Limits) -> MimePart:
    """Split the entity ``body[start:end]`` into headers and (still encoded) body.

    Works on offsets into the whole multipart body: the part's body is a view, not a copy.
    """
    if body.startswith((b"\r\n", b"\n"), start, end):
        # no headers at all
        skip = 2 if body.startswith(b"\r\n", start, end) else 1
        return MimePart({}, memoryview(body)[start + skip : end])
    crlf = body.find(b"\r\n\r\n", start, end)
    # a bare-LF blank line counts only when it comes first
    lf = body.find(b"\n\n", start, end if crlf == -1 else crlf + 2)
    if crlf == -1 and lf == -1:
        raise ParseError(
            "MIME part without an empty line between headers and body (cut in its headers?)"
        )
    if crlf != -1 and (lf == -1 or crlf <= lf):
        head_end, body_start = crlf, crlf + 4
    else:
        head_end, body_start = lf, lf + 2
    if head_end - start > limits.max_header_bytes:
        raise BodyTooLargeError("MIME header block", head_end - start, limits.max_header_bytes)
    # the header block is parsed when first read (MimePart.headers)
    return MimePart(encoded=memoryview(body)[body_start:end], head=body[start:head_end])


def split_multipart(body: bytes, boundary: str, limits: Limits = DEFAULT_LIMITS) -> list[MimePart]:
    """Split a multipart body into its parts (headers parsed and bodies decoded on first use).

    Lenient about CRLF vs LF and preamble/epilogue; strict about the number of parts. A body
    without its closing delimiter (``--boundary--``) is truncated: :class:`ParseError` 2007,
    as is a part without the blank line ending its headers, and a body without any part.
    """
    if len(body) > limits.max_body_bytes:
        raise BodyTooLargeError("multipart body", len(body), limits.max_body_bytes)
    if not boundary or len(boundary) > 200:
        raise ParseError(f"invalid multipart boundary {boundary[:80]!r}")
    try:
        delimiter = b"--" + boundary.encode("latin-1")
    except UnicodeEncodeError:
        raise ParseError(f"invalid multipart boundary {boundary[:80]!r}: not Latin-1") from None
    # Find every delimiter that starts a line and is followed by "--", blanks or the line end:
    # "--AB" must not match "--ABC" (a nested part's boundary may extend the outer one).
    size = len(delimiter)
    most = limits.max_parts + 1
    find = body.find
    followers = _DELIMITER_FOLLOWERS
    positions: list[int] = []
    index = find(delimiter)
    while index != -1:
        after = index + size
        if (index == 0 or body[index - 1] == 10) and body[after : after + 1] in followers:
            positions.append(index)
            if len(positions) > most:
                raise ParseError(
                    f"multipart body has more than {limits.max_parts} parts", status_code=2004
                )
        index = find(delimiter, after)
    if not positions:
        raise ParseError(f"multipart boundary {boundary[:80]!r} not found in the body")
    closed = False
    parts: list[MimePart] = []
    for number, position in enumerate(positions):
        after = position + size
        if body.startswith(b"--", after):
            closed = True  # the close delimiter
            break
        if number + 1 == len(positions):
            break  # the last part runs to the end of the body: no close delimiter came
        # skip transport padding and the line break after the delimiter
        line_end = find(b"\n", after)
        entity_start = line_end + 1
        entity_end = positions[number + 1]
        # the line break before the next delimiter belongs to the delimiter
        if body.endswith(b"\r\n", entity_start, entity_end):
            entity_end -= 2
        elif body.endswith(b"\n", entity_start, entity_end):
            entity_end -= 1
        parts.append(_split_entity(body, entity_start, max(entity_start, entity_end), limits))
    if not closed:
        raise ParseError(
            f"multipart body truncated: no closing delimiter --{boundary[:80]}-- "
            f"after {len(body)} bytes"
        )
    if not parts:
        raise ParseError("multipart body holds no part")
    return parts


def header_items(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Header pairs safe to write: CR/LF in names or values are refused."""
    items = []
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n"):
            raise ValueError(f"header {name!r}: line breaks are not allowed in MIME headers")
        items.append((name, value))
    return items
