"""What every MM7 server does, without I/O: shared by the receiver and the mock MMSC.

Both servers take a POST, check who sent it and what it claims to be, read a bounded body and
answer either an MM7 Rsp or a fault. Everything here is a pure function over strings, bytes and
dataclasses (no aiohttp: :mod:`mm7client.server_aiohttp` is the thin adapter reading a body
from an aiohttp request under a :class:`BodyPolicy`):

* :func:`check_media_type` - XML or ``multipart/related`` (a missing Content-Type or
  ``application/octet-stream`` is accepted: the codec sniffs the envelope or the boundary);
* :func:`parse_basic_auth`, :func:`credentials_match`, :func:`check_basic_auth` - HTTP Basic
  credentials, compared in constant time, an empty user or password never matching;
* :class:`BodyPolicy` - the body size bound, checked from Content-Length before reading, while
  reading, and against Content-Length once read (a truncated body is never acknowledged);
* :func:`status_text` - the one table of StatusTexts (LG U+'s spellings, from
  :mod:`mm7client.codes`);
* :func:`parse_error_refusal`, :func:`fault_answer` - the SOAP Fault answering a refused or
  unreadable request, echoing its TransactionID when known.

A check that fails returns a :class:`Refusal` (HTTP status, MM7 status code, the reason, extra
headers); :func:`fault_answer` turns it into bytes the server sends.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from mm7client.codec import encode
from mm7client.codes import normalize_submit_status
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import SoapFault, Status
from mm7client.profiles import CarrierProfile

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "SNIFFED_MEDIA_TYPES",
    "STATUS_IMPROPER_IDENTIFICATION",
    "STATUS_MESSAGE_FORMAT_CORRUPT",
    "BodyPolicy",
    "FaultAnswer",
    "Refusal",
    "check_basic_auth",
    "check_media_type",
    "credentials_match",
    "fault_answer",
    "media_type",
    "parse_basic_auth",
    "parse_error_refusal",
    "refusal_answer",
    "status_text",
]

#: Media types an MM7 request may be labelled with.
ACCEPTED_MEDIA_TYPES = frozenset(
    {"text/xml", "application/xml", "application/soap+xml", "multipart/related", "multipart/mixed"}
)
#: No label, or the label some HTTP stacks put on any body: the codec sniffs the body instead.
SNIFFED_MEDIA_TYPES = frozenset({"", "application/octet-stream"})

#: MM7 status codes these checks answer with.
STATUS_MESSAGE_FORMAT_CORRUPT = 2007
STATUS_IMPROPER_IDENTIFICATION = 4001
_MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request a server answers with a fault instead of handling it.

    Attributes:
        http_status: the HTTP status of the answer (401, 413, 415, 500...).
        status_code: the MM7 status code of the fault (2007, 4001...).
        reason: what was wrong, for the fault's details and the server's log.
        headers: extra HTTP headers of the answer (``WWW-Authenticate`` for a 401).
    """

    http_status: int
    status_code: int
    reason: str
    headers: Mapping[str, str] | None = None


# -- media type -----------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type header (``""`` when there is none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> Refusal | None:
    """``None`` when ``content_type`` may carry an MM7 request, else a 415 / 2007 refusal.

    XML and multipart types are accepted; a missing Content-Type and
    ``application/octet-stream`` too (the codec finds the envelope or the MIME boundary
    itself).
    """
    media = media_type(content_type)
    if media in ACCEPTED_MEDIA_TYPES or media in SNIFFED_MEDIA_TYPES:
        return None
    shown = (content_type or "")[:100]
    return Refusal(
        415,
        STATUS_MESSAGE_FORMAT_CORRUPT,
        f"Content-Type {shown!r} is not XML or multipart/related",
    )


# -- HTTP Basic authentication ---------------------------------------------------------------


def parse_basic_auth(authorization: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization: Basic ...`` header value.

    ``None`` when the header is missing, of another scheme, not base64, not UTF-8, or has no
    ``:`` between user and password.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def credentials_match(given: tuple[str, str] | None, expected: tuple[str, str]) -> bool:
    """Whether ``given`` equals ``expected``, compared in constant time.

    An empty user or password never matches (nor does ``given=None``), so a server configured
    with an empty one refuses everybody rather than accepting an empty credential.
    """
    if given is None:
        return False
    user, password = given
    want_user, want_password = expected
    # both compared every time: the time taken does not tell which of the two was wrong
    user_ok = hmac.compare_digest(user.encode(), want_user.encode())
    password_ok = hmac.compare_digest(password.encode(), want_password.encode())
    return user_ok and password_ok and bool(user) and bool(password)


def check_basic_auth(
    authorization: str | None, expected: tuple[str, str], *, realm: str
) -> Refusal | None:
    """``None`` when the ``Authorization`` header carries ``expected``, else a 401 / 4001
    refusal with a ``WWW-Authenticate`` challenge for ``realm``."""
    given = parse_basic_auth(authorization)
    if credentials_match(given, expected):
        return None
    if given is not None:
        reason = f"wrong HTTP Basic credentials for user {given[0][:100]!r}"
    elif authorization and authorization.partition(" ")[0].lower() == "basic":
        reason = "malformed HTTP Basic credentials"
    else:
        reason = "HTTP Basic credentials required"
    challenge = {"WWW-Authenticate": f'Basic realm="{realm}"'}
    return Refusal(401, STATUS_IMPROPER_IDENTIFICATION, reason, challenge)


# -- bounded body ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BodyPolicy:
    """How much body a server reads, and what it answers beyond that.

    Attributes:
        max_bytes: the largest body accepted.
        status_code: the MM7 status of the 413 fault (the receiver answers 2007 "Message
            format corrupt"; the mock answers as LG U+ does, 2004 "Multimedia content
            refused,").
    """

    max_bytes: int
    status_code: int = STATUS_MESSAGE_FORMAT_CORRUPT

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes={self.max_bytes!r}: must not be negative")

    def check_declared(self, content_length: int | None) -> Refusal | None:
        """Before reading: refuse a Content-Length over the limit (``None``: chunked)."""
        if content_length is not None and content_length > self.max_bytes:
            return Refusal(
                413,
                self.status_code,
                f"body of {content_length} bytes exceeds the limit of {self.max_bytes} bytes",
            )
        return None

    def check_read(self, size: int) -> Refusal | None:
        """While reading: refuse as soon as ``size`` bytes read so far exceed the limit."""
        if size > self.max_bytes:
            return Refusal(
                413, self.status_code, f"body exceeds the limit of {self.max_bytes} bytes"
            )
        return None

    def check_complete(self, content_length: int | None, size: int) -> Refusal | None:
        """Once read: refuse a body shorter than its Content-Length (a truncated message is
        never acknowledged)."""
        if content_length is not None and size != content_length:
            return Refusal(
                400,
                STATUS_MESSAGE_FORMAT_CORRUPT,
                f"body of {size} bytes does not match its Content-Length {content_length}",
            )
        return None


# -- status texts and faults ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def status_text(code: int) -> str:
    """The StatusText of ``code``: LG U+'s spelling (the code table's resultMessage column),
    else the text of its class (``"Server Error"`` for an unknown 3xxx)."""
    return normalize_submit_status(code).result_message


def parse_error_refusal(error: ParseError, *, too_large_code: int | None = None) -> Refusal:
    """The refusal of a body the codec could not read: HTTP 500 with ``error.status_code``
    (``too_large_code`` instead, when given, for a body or part over a size limit)."""
    code = error.status_code
    if too_large_code is not None and isinstance(error, BodyTooLargeError):
        code = too_large_code
    return Refusal(500, code, f"unreadable MM7 request: {error}")


@dataclass(frozen=True, slots=True)
class FaultAnswer:
    """A SOAP Fault ready to send.

    Attributes:
        http_status: the HTTP status to answer with.
        status_code: the MM7 status code inside the fault.
        status_text: its StatusText.
        body: the encoded envelope.
        headers: ``Content-Type`` and any extra headers of the answer.
    """

    http_status: int
    status_code: int
    status_text: str
    body: bytes
    headers: Mapping[str, str]


def fault_answer(
    status_code: int,
    reason: str = "",
    *,
    profile: CarrierProfile,
    detail_kind: str,
    http_status: int = 500,
    transaction_id: str | None = None,
    fault_string: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> FaultAnswer:
    """A SOAP Fault carrying an MM7 error response, encoded in ``profile``.

    Args:
        status_code: the MM7 status code; its text comes from :func:`status_text`.
        reason: what was wrong: the status's Details (left out when empty).
        profile: the carrier profile the answer is written in.
        detail_kind: ``"RSErrorRsp"`` when the server is the MMSC (the mock),
            ``"VASPErrorRsp"`` when it is the VASP (the receiver).
        http_status: the HTTP status of the answer.
        transaction_id: the request's TransactionID, echoed when known.
        fault_string: the faultstring (default: the status text).
        headers: extra HTTP headers (the Content-Type is added).
    """
    text = status_text(status_code)
    reason = reason[:_MAX_REASON]
    fault = SoapFault(
        transaction_id=transaction_id,
        fault_code="Server" if 3000 <= status_code < 4000 else "Client",
        fault_string=(fault_string if fault_string is not None else text)[:_MAX_REASON],
        detail_kind=detail_kind,
        status=Status.of(status_code, text, reason or None),
    )
    encoded = encode(fault, profile)
    return FaultAnswer(
        http_status=http_status,
        status_code=status_code,
        status_text=text,
        body=encoded.body,
        headers={"Content-Type": encoded.content_type, **(headers or {})},
    )


def refusal_answer(
    refusal: Refusal,
    *,
    profile: CarrierProfile,
    detail_kind: str,
    transaction_id: str | None = None,
    reason_as_fault_string: bool = False,
) -> FaultAnswer:
    """:func:`fault_answer` for ``refusal`` (its HTTP status, code, reason and headers);
    ``reason_as_fault_string`` puts the reason in the faultstring too (the receiver's way)."""
    return fault_answer(
        refusal.status_code,
        refusal.reason,
        profile=profile,
        detail_kind=detail_kind,
        http_status=refusal.http_status,
        transaction_id=transaction_id,
        fault_string=refusal.reason if reason_as_fault_string else None,
        headers=refusal.headers,
    )
