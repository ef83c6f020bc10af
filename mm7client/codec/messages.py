"""Encode and decode every MM7 message: model dataclasses <-> HTTP body bytes.

:func:`encode` turns any message of :mod:`mm7client.model` into an :class:`EncodedMessage` (body,
Content-Type and the headers to send); requests are validated against the profile first.
:func:`decode` reads any MM7 body back (requests, responses and SOAP faults, in any MM7
namespace, qualified or not, in any charset), raising only :class:`~mm7client.errors.ParseError`.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from lxml import etree

from mm7client.codec import mime
from mm7client.codec.mime import DEFAULT_LIMITS, Limits, MimePart
from mm7client.codec.smil import generate_smil
from mm7client.codec.soap import (
    XmlWriter,
    child,
    child_text,
    children,
    element_text,
    index_children,
    local_name,
    parse_xml,
    python_codec,
    splices_text,
    text_bytes,
    text_of,
    xml_escape,
)
from mm7client.codec.validate import validate_replace, validate_submit
from mm7client.errors import BodyTooLargeError, MM7Error, ParseError, ValidationError
from mm7client.model import (
    Address,
    AddressKind,
    CancelRequest,
    CancelResponse,
    ChargedParty,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MessageClass,
    MM7Message,
    Part,
    Priority,
    ReadReplyRequest,
    ReadReplyResponse,
    ReplaceRequest,
    ReplaceResponse,
    ReplyCharging,
    Response,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
    TimeValue,
)
from mm7client.profiles import THREEGPP, CarrierProfile

__all__ = [
    "EncodedMessage",
    "SplitBody",
    "decode",
    "encode",
    "new_transaction_id",
    "split_body",
    "standard_status_text",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    """An encoded MM7 message, ready to be sent as an HTTP body."""

    body: bytes
    content_type: str
    transaction_id: str

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers for a request or response carrying this body (never chunked)."""
        return {
            "Content-Type": self.content_type,
            "Content-Length": str(len(self.body)),
            "SOAPAction": '""',
        }


def new_transaction_id() -> str:
    """A fresh TransactionID."""
    return uuid.uuid4().hex


# =============================================================================================
# Encoding


def _time(value: TimeValue) -> str:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{sign}P{days}DT{hours}H{minutes}M{secs}S"
    return value.isoformat(timespec="seconds")


def _address_xml(w: XmlWriter, address: Address) -> None:
    attrs = f' displayOnly="{w.boolean(True)}"' if address.display_only else ""
    w.element(address.kind.value, address.value, attrs)


#: TS 23.140 status texts, written when a Status has no text (StatusText is mandatory).
STANDARD_STATUS_TEXTS: dict[int, str] = {
    1000: "Success",
    1100: "Partial success",
    2000: "Client error",
    2001: "Operation restricted",
    2002: "Address Error",
    2003: "Address Not Found",
    2004: "Multimedia content refused",
    2005: "Message ID Not found",
    2006: "LinkedID not found",
    2007: "Message format corrupt",
    2008: "Application ID not found",
    2009: "Reply Application ID not found",
    3000: "Server Error",
    3001: "Not Possible",
    3002: "Message rejected",
    3003: "Multiple addresses not supported",
    3004: "Application Addressing not supported",
    4000: "General service error",
    4001: "Improper identification",
    4002: "Unsupported version",
    4003: "Unsupported operation",
    4004: "Validation error",
    4005: "Service error",
    4006: "Service unavailable",
    4007: "Service denied",
    4008: "Application denied",
}


def standard_status_text(code: str) -> str:
    """The TS 23.140 text of ``code`` (the x000 text of its class for an unknown code)."""
    try:
        value = int(code.strip())
    except ValueError:
        return ""
    text = STANDARD_STATUS_TEXTS.get(value)
    if text is None:
        text = STANDARD_STATUS_TEXTS.get(value // 1000 * 1000, "Server Error")
    return text


def _sender_element(w: XmlWriter, sender: Address | None) -> None:
    if sender is not None:
        w.open("Sender")
        _address_xml(w, sender)
        w.close("Sender")


def _recipients_xml(w: XmlWriter, to: list[Address], cc: list[Address], bcc: list[Address]) -> None:
    w.open("Recipients")
    for kind, addresses in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if addresses:
            w.open(kind)
            for address in addresses:
                _address_xml(w, address)
            w.close(kind)
    w.close("Recipients")


def _write_status(w: XmlWriter, status: Status) -> None:
    w.open("Status")
    w.element("StatusCode", status.code)
    w.element(
        "StatusText", status.text if status.text is not None else standard_status_text(status.code)
    )
    w.element("Details", status.details)
    w.close("Status")


def _bool(w: XmlWriter, name: str, value: bool | None) -> None:
    if value is not None:
        w.element(name, w.boolean(value))


def _enum(w: XmlWriter, name: str, value: StrEnum | str | None) -> None:
    if value is not None:
        w.element(name, str(value))


def _sender_identification(
    w: XmlWriter,
    profile: CarrierProfile,
    vasp_id: str | None,
    vas_id: str | None,
    sender: Address | None,
    callback: str | None,
    password: str | None,
) -> None:
    w.open("SenderIdentification")
    w.element("VASPID", vasp_id)
    w.element("VASID", vas_id)
    if sender is not None:
        if profile.sender_address_wrapped:
            w.open("SenderAddress")
            _address_xml(w, sender)
            w.close("SenderAddress")
        else:
            w.element("SenderAddress", sender.value)
    if profile.lgt_extensions and profile.callback_in_sender_identification:
        w.element("CallBack", callback)
    if profile.password_element:
        w.element(profile.password_element, password)
    w.close("SenderIdentification")


@dataclass(frozen=True, slots=True)
class _Content:
    """The encoded content part: its MIME entity and Content-ID."""

    entity: bytes
    content_id: str


def _encode_parts(parts: Sequence[Part], profile: CarrierProfile, smil: bool | None) -> _Content:
    entities: list[bytes] = []
    listed: list[tuple[str, str]] = []
    smil_id: str | None = None
    common = profile.part_headers
    for part in parts:
        cid = part.content_id or mime.new_content_id("p")
        headers: list[tuple[str, str]]
        if part.text is not None:
            try:
                body = part.text.encode(profile.codec)
            except UnicodeEncodeError as exc:
                raise ValidationError(
                    f"Content[{len(entities)}]",
                    part.text,
                    f"cannot be encoded in {profile.charset}: {exc.reason}",
                ) from None
            ctype = f'{part.content_type}; charset="{profile.charset}"'
            encoding = "8bit" if any(b > 127 for b in body) else "7bit"
            if part.is_smil:
                smil_id = cid
        else:
            body = mime.encode_base64_lines(part.data)
            ctype = part.content_type
            encoding = "base64"
            if part.filename:
                ctype += f'; name="{part.filename}"'
        headers = [
            ("Content-Type", ctype),
            ("Content-ID", f"<{cid}>"),
            ("Content-Transfer-Encoding", encoding),
        ]
        if part.filename:
            headers.append(("Content-Location", part.filename))
        headers.extend(common)
        headers.extend(part.headers.items())
        entities.append(mime.build_part(headers, body))
        if not part.is_smil:
            listed.append((cid, part.content_type))
    if smil_id is None and smil is not False and listed:
        smil_id = mime.new_content_id("smil")
        document = generate_smil(listed).encode("utf-8")
        entities.insert(
            0,
            mime.build_part(
                [
                    ("Content-Type", 'application/smil; charset="utf-8"'),
                    ("Content-ID", f"<{smil_id}>"),
                    ("Content-Transfer-Encoding", "7bit"),
                    ("Content-Location", "presentation.smil"),
                ],
                document,
            ),
        )
    boundary = mime.new_boundary()
    if smil_id is not None:
        ctype = (
            f'multipart/related; boundary="{boundary}"; type="application/smil"; '
            f'start="<{smil_id}>"'
        )
    else:
        ctype = f'multipart/mixed; boundary="{boundary}"'
    content_id = mime.new_content_id("content")
    entity = mime.build_part(
        [("Content-Type", ctype), ("Content-ID", f"<{content_id}>")],
        mime.build_multipart(boundary, entities),
    )
    return _Content(entity, content_id)


def _package(
    envelope: bytes, profile: CarrierProfile, transaction_id: str, content: _Content | None
) -> EncodedMessage:
    if content is None:
        return EncodedMessage(envelope, f'text/xml; charset="{profile.charset}"', transaction_id)
    soap_id = mime.new_content_id("soap")
    boundary = mime.new_boundary()
    soap_entity = mime.build_part(
        [
            ("Content-Type", f'text/xml; charset="{profile.charset}"'),
            ("Content-ID", f"<{soap_id}>"),
        ],
        envelope,
    )
    body = mime.build_multipart(boundary, [soap_entity, content.entity])
    ctype = f'multipart/related; boundary="{boundary}"; type="text/xml"; start="<{soap_id}>"'
    return EncodedMessage(body, ctype, transaction_id)


def _content_element(
    w: XmlWriter, profile: CarrierProfile, content: _Content | None, allow: bool | None
) -> None:
    if content is None:
        return
    attrs = f' href="{xml_escape(profile.href_prefix + content.content_id)}"'
    if allow is not None:
        attrs += f' allowAdaptations="{w.boolean(allow)}"'
    w.empty("Content", attrs)


def _encode_submit(msg: SubmitRequest, profile: CarrierProfile, tid: str) -> EncodedMessage:
    validate_submit(msg, profile)
    content = _encode_parts(msg.content, profile, msg.smil) if msg.content else None
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    _sender_identification(
        w,
        profile,
        msg.vasp_id,
        msg.vas_id,
        msg.sender_address,
        msg.callback,
        msg.auth_password,
    )
    _recipients_xml(w, msg.to, msg.cc, msg.bcc)
    if profile.lgt_extensions and not profile.callback_in_sender_identification:
        w.element("CallBack", msg.callback)
    w.element("ServiceCode", msg.service_code)
    w.element("LinkedID", msg.linked_id)
    _enum(w, "MessageClass", msg.message_class)
    if msg.timestamp is not None:
        w.element("TimeStamp", _time(msg.timestamp))
    if msg.reply_charging is not None:
        rc = msg.reply_charging
        attrs = ""
        if rc.reply_charging_size is not None:
            attrs += f' replyChargingSize="{rc.reply_charging_size}"'
        if rc.reply_deadline is not None:
            attrs += f' replyDeadline="{_time(rc.reply_deadline)}"'
        w.empty("ReplyCharging", attrs)
    if msg.earliest_delivery_time is not None:
        w.element("EarliestDeliveryTime", _time(msg.earliest_delivery_time))
    if msg.expiry_date is not None:
        w.element("ExpiryDate", _time(msg.expiry_date))
    _bool(w, "DeliveryReport", msg.delivery_report)
    _bool(w, "ReadReply", msg.read_reply)
    _enum(w, "Priority", msg.priority)
    if profile.lgt_extensions:
        # LGT's sample: DistributionIndicator and KisaOrigCode come before Subject.
        _enum(w, "ChargedParty", msg.charged_party)
        _bool(w, "DistributionIndicator", msg.distribution_indicator)
        w.element("KisaOrigCode", msg.kisa_orig_code)
        w.element("Subject", msg.subject)
    else:
        w.element("Subject", msg.subject)
        _enum(w, "ChargedParty", msg.charged_party)
        if profile.rel6_elements:
            w.element("ChargedPartyID", msg.charged_party_id)
        _bool(w, "DistributionIndicator", msg.distribution_indicator)
        if profile.rel6_elements:
            if msg.delivery_condition:
                # one DeliveryCondition holding every DC (the element occurs at most once)
                w.open("DeliveryCondition")
                for condition in msg.delivery_condition:
                    w.element("DC", str(condition))
                w.close("DeliveryCondition")
            w.element("ApplicID", msg.applic_id)
            w.element("ReplyApplicID", msg.reply_applic_id)
            w.element("AuxApplicInfo", msg.aux_applic_info)
            w.element("ContentClass", msg.content_class)
            _bool(w, "DRMContent", msg.drm_content)
    _content_element(w, profile, content, msg.allow_adaptations)
    return _package(w.envelope("SubmitReq", tid), profile, tid, content)


def _encode_cancel(msg: CancelRequest, profile: CarrierProfile, tid: str) -> EncodedMessage:
    if not msg.message_id:
        raise ValidationError("MessageID", msg.message_id, "required")
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    _sender_identification(
        w, profile, msg.vasp_id, msg.vas_id, msg.sender_address, None, msg.auth_password
    )
    w.element("MessageID", msg.message_id)
    return _package(w.envelope("CancelReq", tid), profile, tid, None)


def _encode_replace(msg: ReplaceRequest, profile: CarrierProfile, tid: str) -> EncodedMessage:
    validate_replace(msg, profile)
    content = _encode_parts(msg.content, profile, msg.smil) if msg.content else None
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    _sender_identification(w, profile, msg.vasp_id, msg.vas_id, None, None, msg.auth_password)
    w.element("MessageID", msg.message_id)
    w.element("ServiceCode", msg.service_code)
    if msg.timestamp is not None:
        w.element("TimeStamp", _time(msg.timestamp))
    _bool(w, "ReadReply", msg.read_reply)
    if msg.earliest_delivery_time is not None:
        w.element("EarliestDeliveryTime", _time(msg.earliest_delivery_time))
    _bool(w, "DistributionIndicator", msg.distribution_indicator)
    _content_element(w, profile, content, msg.allow_adaptations)
    return _package(w.envelope("ReplaceReq", tid), profile, tid, content)


_RESPONSE_OPERATIONS: dict[type[Response], str] = {
    SubmitResponse: "SubmitRsp",
    CancelResponse: "CancelRsp",
    ReplaceResponse: "ReplaceRsp",
    DeliverResponse: "DeliverRsp",
    DeliveryReportResponse: "DeliveryReportRsp",
    ReadReplyResponse: "ReadReplyRsp",
}


def _encode_response(msg: Response, profile: CarrierProfile, tid: str) -> EncodedMessage:
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    _write_status(w, msg.status)
    if isinstance(msg, SubmitResponse):
        w.element("MessageID", msg.message_id)
    if isinstance(msg, DeliverResponse):
        w.element("ServiceCode", msg.service_code)
    return _package(w.envelope(_RESPONSE_OPERATIONS[type(msg)], tid), profile, tid, None)


def _encode_fault(msg: SoapFault, profile: CarrierProfile, tid: str) -> EncodedMessage:
    detail = ""
    if msg.status is not None:
        kind = msg.detail_kind or "RSErrorRsp"
        w = XmlWriter(profile)
        w.element("MM7Version", msg.mm7_version or profile.mm7_version)
        _write_status(w, msg.status)
        ns = xml_escape(profile.namespace)
        detail = f'<detail><mm7:{kind} xmlns:mm7="{ns}">{w.inner()}</mm7:{kind}></detail>'
    code = msg.fault_code if ":" in msg.fault_code else f"env:{msg.fault_code}"
    fault = (
        f"<env:Fault><faultcode>{xml_escape(code)}</faultcode>"
        f"<faultstring>{xml_escape(msg.fault_string)}</faultstring>{detail}</env:Fault>"
    )
    envelope = XmlWriter(profile).envelope("Fault", tid, fault=fault)
    return _package(envelope, profile, tid, None)


def _encode_deliver(msg: DeliverRequest, profile: CarrierProfile, tid: str) -> EncodedMessage:
    content = _encode_parts(msg.content, profile, None) if msg.content else None
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    w.element("MMSRelayServerID", msg.mms_relay_server_id)
    w.element("LinkedID", msg.linked_id)
    _sender_element(w, msg.sender)
    if msg.to or msg.cc or msg.bcc:
        _recipients_xml(w, msg.to, msg.cc, msg.bcc)
    if msg.timestamp is not None:
        w.element("TimeStamp", _time(msg.timestamp))
    w.element("ReplyChargingID", msg.reply_charging_id)
    _enum(w, "Priority", msg.priority)
    w.element("Subject", msg.subject)
    if profile.rel6_elements:
        w.element("ApplicID", msg.applic_id)
        w.element("ReplyApplicID", msg.reply_applic_id)
        w.element("AuxApplicInfo", msg.aux_applic_info)
    _content_element(w, profile, content, None)
    return _package(w.envelope("DeliverReq", tid), profile, tid, content)


def _encode_report(
    msg: DeliveryReportRequest | ReadReplyRequest, profile: CarrierProfile, tid: str
) -> EncodedMessage:
    w = XmlWriter(profile)
    w.element("MM7Version", msg.mm7_version or profile.mm7_version)
    w.element("MMSRelayServerID", msg.mms_relay_server_id)
    # LGT's delivery reports name the sender before the MessageID; TS 23.140 (and every read
    # reply) puts it after Recipient.
    sender_first = profile.lgt_extensions and isinstance(msg, DeliveryReportRequest)
    if sender_first:
        _sender_element(w, msg.sender)
    w.element("MessageID", msg.message_id)
    w.open("Recipient")
    _address_xml(w, msg.recipient)
    w.close("Recipient")
    if not sender_first:
        _sender_element(w, msg.sender)
    if msg.timestamp is not None:
        w.element("TimeStamp", _time(msg.timestamp))
    w.element("MMStatus", msg.mm_status)
    w.element("StatusText", msg.status_text)
    if isinstance(msg, DeliveryReportRequest) and profile.lgt_extensions:
        w.element("CalledNet", msg.called_net)
    if profile.rel6_elements:
        w.element("ApplicID", msg.applic_id)
        w.element("ReplyApplicID", msg.reply_applic_id)
        w.element("AuxApplicInfo", msg.aux_applic_info)
    operation = "DeliveryReportReq" if isinstance(msg, DeliveryReportRequest) else "ReadReplyReq"
    return _package(w.envelope(operation, tid), profile, tid, None)


def encode(message: MM7Message, profile: CarrierProfile = THREEGPP) -> EncodedMessage:
    """Encode ``message`` for ``profile``.

    Requests are validated first (:class:`~mm7client.errors.ValidationError` names the field).
    A message without ``transaction_id`` gets a fresh one; the result says which was used.
    """
    tid = message.transaction_id or new_transaction_id()
    if isinstance(message, SubmitRequest):
        return _encode_submit(message, profile, tid)
    if isinstance(message, Response):
        return _encode_response(message, profile, tid)
    if isinstance(message, SoapFault):
        return _encode_fault(message, profile, tid)
    if isinstance(message, CancelRequest):
        return _encode_cancel(message, profile, tid)
    if isinstance(message, ReplaceRequest):
        return _encode_replace(message, profile, tid)
    if isinstance(message, DeliverRequest):
        return _encode_deliver(message, profile, tid)
    if isinstance(message, DeliveryReportRequest | ReadReplyRequest):
        return _encode_report(message, profile, tid)
    raise TypeError(f"message={type(message).__name__!r}: not an MM7 message this codec encodes")


class PreparedResponse:
    """A response encoded once, with its TransactionID (and a SubmitRsp's MessageID) left open.

    For peers that answer many requests with the same status (an MMSC, a VASP's receiver):
    :meth:`render` splices each request's ids into the bytes :func:`encode` wrote once, giving
    exactly the bytes :func:`encode` gives the response with those ids. The ids of
    ``response`` itself are not used; a SubmitRsp with a MessageID renders with one, a SubmitRsp
    without it (a refusal) renders without. Profiles whose charset cannot be written piece by
    piece (UTF-16, UTF-32) are encoded whole on every render.
    """

    __slots__ = (
        "_pieces",
        "_response",
        "content_type",
        "has_message_id",
        "profile",
    )

    def __init__(self, response: Response, profile: CarrierProfile = THREEGPP) -> None:
        if not isinstance(response, Response):
            raise TypeError(f"response={type(response).__name__!r}: not an MM7 response")
        self.profile = profile
        #: whether :meth:`render` takes a MessageID (a SubmitRsp that has one)
        self.has_message_id = isinstance(response, SubmitResponse) and (
            response.message_id is not None
        )
        # the response written once with marks where the ids go, then cut at the marks
        tid_mark = f"PreparedTransactionID{uuid.uuid4().hex}"
        mid_mark = f"PreparedMessageID{uuid.uuid4().hex}"
        ids: dict[str, Any] = {"transaction_id": tid_mark}
        if self.has_message_id:
            ids["message_id"] = mid_mark
        self._response = replace(response, **ids)
        encoded = encode(self._response, profile)
        self.content_type = encoded.content_type
        self._pieces: tuple[bytes, ...] | None = None
        # the TransactionID (in the SOAP Header) comes before the MessageID (in the Body)
        body = encoded.body
        marks = [mark.encode("ascii") for mark in ids.values()]
        positions = [body.find(mark) for mark in marks]
        once = all(body.count(mark) == 1 for mark in marks)
        if splices_text(profile.codec) and once and positions == sorted(positions):
            pieces, start = [], 0
            for mark, position in zip(marks, positions, strict=True):
                pieces.append(body[start:position])
                start = position + len(mark)
            pieces.append(body[start:])
            self._pieces = tuple(pieces)

    def render(self, transaction_id: str, message_id: str | None = None) -> EncodedMessage:
        """The response with these ids, encoded (an empty TransactionID gets a fresh one)."""
        if (message_id is not None) != self.has_message_id:
            wanted = "a MessageID" if self.has_message_id else "no MessageID"
            raise ValueError(f"message_id={message_id!r}: this response takes {wanted}")
        tid = transaction_id or new_transaction_id()
        pieces = self._pieces
        if pieces is None:
            ids: dict[str, Any] = {"transaction_id": tid}
            if message_id is not None:
                ids["message_id"] = message_id
            return encode(replace(self._response, **ids), self.profile)
        codec = self.profile.codec
        tid_bytes = text_bytes("TransactionID", tid, codec)
        if message_id is None:
            return EncodedMessage(pieces[0] + tid_bytes + pieces[1], self.content_type, tid)
        mid_bytes = text_bytes("MessageID", message_id, codec)
        body = b"".join((pieces[0], tid_bytes, pieces[1], mid_bytes, pieces[2]))
        return EncodedMessage(body, self.content_type, tid)


# =============================================================================================
# Decoding


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


def _resolve_content(
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


_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def _parse_bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        log.debug("unreadable dateTime %r", value)
        return None


def _parse_count(value: str | None) -> int | None:
    """A non-negative integer of up to 18 digits, else ``None`` (never raises)."""
    value = value.strip() if value else ""
    return int(value) if value.isdecimal() and len(value) <= 18 else None


def _parse_time(value: str | None) -> TimeValue | None:
    if not value:
        return None
    value = value.strip()
    match = _DURATION.fullmatch(value)
    if match and value not in ("P", "-P"):
        sign, years, months, days, hours, minutes, seconds = match.groups()
        try:
            delta = timedelta(
                days=int(years or 0) * 365 + int(months or 0) * 30 + int(days or 0),
                hours=int(hours or 0),
                minutes=int(minutes or 0),
                seconds=float(seconds or 0),
            )
        except (ValueError, OverflowError):  # beyond timedelta, or too many digits for int
            log.debug("unreadable duration %r", value)
            return None
        return -delta if sign else delta
    return _parse_datetime(value)


E = TypeVar("E", bound=StrEnum)


def _parse_enum(kind: type[E], value: str | None) -> E | None:
    if not value:
        return None
    lowered = value.strip().lower()
    for member in kind:
        if member.value.lower() == lowered:
            return member
    return None


_ADDRESS_KINDS = {kind.value: kind for kind in AddressKind}


def _address_of(item: etree._Element, kind: AddressKind) -> Address:
    display = item.get("displayOnly")
    return Address((item.text or "").strip(), kind, bool(display) and _parse_bool(display) is True)


def _value_of(item: etree._Element, kind: AddressKind) -> str:
    return (item.text or "").strip()


_AddressT = TypeVar("_AddressT")


@dataclass(frozen=True, slots=True)
class _AddressReading(Generic[_AddressT]):
    """What the address readers make of an address: from a Number/ShortCode/RFC2822Address
    element (``typed``) or from plain text (``plain``, never empty)."""

    typed: Callable[[etree._Element, AddressKind], _AddressT]
    plain: Callable[[str], _AddressT]


_ADDRESSES: _AddressReading[Address] = _AddressReading(_address_of, Address)
# the summary's: the same addresses' values
_VALUES: _AddressReading[str] = _AddressReading(_value_of, str)


def _read_address(element: etree._Element | None) -> Address | None:
    """An address element: a wrapper holding Number/ShortCode/RFC2822Address, or plain text."""
    return _read_address_as(element, _ADDRESSES)


def _read_recipients(element: etree._Element | None) -> dict[str, list[Address]]:
    """Recipients' To, Cc and Bcc addresses."""
    return _read_recipients_as(element, _ADDRESSES)


def _read_address_as(
    element: etree._Element | None, reading: _AddressReading[_AddressT]
) -> _AddressT | None:
    if element is None:
        return None
    kinds = _ADDRESS_KINDS
    for item in children(element):
        kind = kinds.get(local_name(item.tag))
        if kind is not None:
            return reading.typed(item, kind)
    kind = kinds.get(local_name(element.tag))
    if kind is not None:
        return reading.typed(element, kind)
    text = (element.text or "").strip()
    return reading.plain(text) if text else None


def _read_recipients_as(
    element: etree._Element | None, reading: _AddressReading[_AddressT]
) -> dict[str, list[_AddressT]]:
    result: dict[str, list[_AddressT]] = {"To": [], "Cc": [], "Bcc": []}
    if element is None:
        return result
    kinds = _ADDRESS_KINDS
    typed = reading.typed
    for group in children(element):
        name = local_name(group.tag)
        if name not in result:
            # LGT reports sometimes put the address directly under Recipients
            if name in kinds:
                address = _read_address_as(group, reading)
                if address is not None:
                    result["To"].append(address)
            continue
        for item in children(group):
            kind = kinds.get(local_name(item.tag))
            if kind is not None:
                result[name].append(typed(item, kind))
    return result


def _read_status(op: etree._Element, fields: dict[str, etree._Element] | None = None) -> Status:
    """The Status of a response; ``fields`` is the operation's child index when known.

    Accepts the standard nested form and carriers' flat, out-of-order form (StatusCode and
    StatusText directly under the operation).
    """
    if fields is None:
        fields = index_children(op)
    status = fields.get("Status")
    inner = index_children(status) if status is not None else fields
    code = text_of(inner.get("StatusCode"))
    if code is None and status is not None:
        code = text_of(fields.get("StatusCode"))
    if code is None:
        raise ParseError(f"{local_name(op.tag)} without StatusCode", status_code=4004)
    text = text_of(inner.get("StatusText"))
    if text is None and status is not None:
        text = text_of(fields.get("StatusText"))
    details = element_text(inner.get("Details"))
    return Status(code, text, details or None)


def _require(value: str | None, name: str, operation: str) -> str:
    if not value:
        raise ParseError(f"{operation} without {name}", status_code=4004)
    return value


# an element's children by local name (soap.index_children)
_ChildIndex = dict[str, etree._Element]


def _submit_recipients(
    fields: _ChildIndex, reading: _AddressReading[_AddressT]
) -> dict[str, list[_AddressT]]:
    """A SubmitReq's To/Cc/Bcc from its child index; none at all is refused (4004)."""
    recipients = _read_recipients_as(fields.get("Recipients"), reading)
    if not any(recipients.values()):
        raise ParseError("SubmitReq without recipients", status_code=4004)
    return recipients


def _submit_password(sid: _ChildIndex, fields: _ChildIndex) -> str | None:
    """AuthPassword from SenderIdentification, else from the SubmitReq itself (carriers differ)."""
    return text_of(sid.get("AuthPassword")) or text_of(fields.get("AuthPassword"))


def _submit_callback(sid: _ChildIndex, fields: _ChildIndex) -> str | None:
    """CallBack from SenderIdentification, else from the SubmitReq itself."""
    return text_of(sid.get("CallBack")) or text_of(fields.get("CallBack"))


def _sender_identification_index(
    op: etree._Element, fields: dict[str, etree._Element] | None = None
) -> dict[str, etree._Element]:
    """The children of SenderIdentification by local name (the operation's own children when
    a carrier writes them flat); ``fields`` is the operation's child index when known."""
    if fields is None:
        fields = index_children(op)
    sid = fields.get("SenderIdentification")
    return index_children(sid) if sid is not None else fields


def _sender_identification_fields(
    op: etree._Element, source: dict[str, etree._Element] | None = None
) -> dict[str, Any]:
    """VASPID, VASID and SenderAddress; ``source`` is the SenderIdentification index if known."""
    if source is None:
        source = _sender_identification_index(op)
    return {
        "vasp_id": text_of(source.get("VASPID")),
        "vas_id": text_of(source.get("VASID")),
        "sender_address": _read_address(source.get("SenderAddress")),
    }


def _content_fields(
    content: etree._Element | None, parts: list[MimePart], limits: Limits
) -> dict[str, Any]:
    """``content`` and ``allow_adaptations`` of a message with a Content element."""
    allow = content.get("allowAdaptations") if content is not None else None
    return {
        "content": _resolve_content(content, parts, limits),
        "allow_adaptations": _parse_bool(allow),
    }


def _enum_parser(kind: type[E]) -> Callable[[str], E | None]:
    return functools.partial(_parse_enum, kind)


# SubmitReq's simple elements: element -> (field, parser of its stripped text or None for
# the text itself). Read in one pass over the elements present (most are optional and absent).
_SUBMIT_SIMPLE_FIELDS: dict[str, tuple[str, Callable[[str], Any] | None]] = {
    "ServiceCode": ("service_code", None),
    "LinkedID": ("linked_id", None),
    "MessageClass": ("message_class", _enum_parser(MessageClass)),
    "TimeStamp": ("timestamp", _parse_datetime),
    "EarliestDeliveryTime": ("earliest_delivery_time", _parse_time),
    "ExpiryDate": ("expiry_date", _parse_time),
    "DeliveryReport": ("delivery_report", _parse_bool),
    "ReadReply": ("read_reply", _parse_bool),
    "Priority": ("priority", _enum_parser(Priority)),
    "Subject": ("subject", None),
    "ChargedParty": ("charged_party", _enum_parser(ChargedParty)),
    "DistributionIndicator": ("distribution_indicator", _parse_bool),
    "KisaOrigCode": ("kisa_orig_code", None),
    "ApplicID": ("applic_id", None),
    "ReplyApplicID": ("reply_applic_id", None),
    "AuxApplicInfo": ("aux_applic_info", None),
    "ChargedPartyID": ("charged_party_id", None),
    "ContentClass": ("content_class", None),
    "DRMContent": ("drm_content", _parse_bool),
}


def _decode_submit(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> SubmitRequest:
    # One pass over the children; every field below is a dict lookup.
    fields = index_children(op)
    recipients = _submit_recipients(fields, _ADDRESSES)
    values: dict[str, Any] = {}
    simple = _SUBMIT_SIMPLE_FIELDS
    for name, element in fields.items():
        spec = simple.get(name)
        if spec is not None:
            text = element.text
            text = text.strip() if text else ""
            values[spec[0]] = text if spec[1] is None else spec[1](text)
    sid_fields = _sender_identification_index(op, fields)
    callback = _submit_callback(sid_fields, fields)
    password = _submit_password(sid_fields, fields)
    reply = fields.get("ReplyCharging")
    if reply is not None:
        size = reply.get("replyChargingSize")
        values["reply_charging"] = ReplyCharging(
            _parse_count(size), _parse_time(reply.get("replyDeadline"))
        )
    if "DeliveryCondition" in fields:
        conditions = (
            _parse_count(dc.text)
            for group in children(op, "DeliveryCondition")
            for dc in children(group, "DC")
        )
        values["delivery_condition"] = [dc for dc in conditions if dc is not None]
    return SubmitRequest(
        **common,
        **_sender_identification_fields(op, sid_fields),
        to=recipients["To"],
        cc=recipients["Cc"],
        bcc=recipients["Bcc"],
        callback=callback,
        auth_password=password,
        **values,
        **_content_fields(fields.get("Content"), parts, limits),
    )


def _decode_cancel(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> CancelRequest:
    sid = _sender_identification_fields(op)
    return CancelRequest(
        **common,
        **sid,
        message_id=_require(child_text(op, "MessageID"), "MessageID", "CancelReq"),
    )


def _decode_replace(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> ReplaceRequest:
    sid = _sender_identification_fields(op)
    content = child(op, "Content")
    return ReplaceRequest(
        **common,
        vasp_id=sid["vasp_id"],
        vas_id=sid["vas_id"],
        message_id=_require(child_text(op, "MessageID"), "MessageID", "ReplaceReq"),
        service_code=child_text(op, "ServiceCode"),
        timestamp=_parse_datetime(child_text(op, "TimeStamp")),
        read_reply=_parse_bool(child_text(op, "ReadReply")),
        earliest_delivery_time=_parse_time(child_text(op, "EarliestDeliveryTime")),
        distribution_indicator=_parse_bool(child_text(op, "DistributionIndicator")),
        **_content_fields(content, parts, limits),
    )


def _decode_deliver(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> DeliverRequest:
    recipients = _read_recipients(child(op, "Recipients"))
    return DeliverRequest(
        **common,
        sender=_read_address(child(op, "Sender")),
        to=recipients["To"],
        cc=recipients["Cc"],
        bcc=recipients["Bcc"],
        mms_relay_server_id=child_text(op, "MMSRelayServerID"),
        linked_id=child_text(op, "LinkedID"),
        timestamp=_parse_datetime(child_text(op, "TimeStamp")),
        reply_charging_id=child_text(op, "ReplyChargingID"),
        priority=_parse_enum(Priority, child_text(op, "Priority")),
        subject=child_text(op, "Subject"),
        applic_id=child_text(op, "ApplicID"),
        reply_applic_id=child_text(op, "ReplyApplicID"),
        aux_applic_info=child_text(op, "AuxApplicInfo"),
        content=_resolve_content(child(op, "Content"), parts, limits),
    )


def _report_fields(op: etree._Element, operation: str) -> dict[str, Any]:
    recipient = _read_address(child(op, "Recipient"))
    if recipient is None:
        listed = _read_recipients(child(op, "Recipients"))
        found = listed["To"] or listed["Cc"] or listed["Bcc"]
        recipient = found[0] if found else None
    if recipient is None:
        raise ParseError(f"{operation} without Recipient", status_code=4004)
    time_text = child_text(op, "TimeStamp") or child_text(op, "Date")
    return {
        "message_id": _require(child_text(op, "MessageID"), "MessageID", operation),
        "recipient": recipient,
        "sender": _read_address(child(op, "Sender")),
        "mm_status": _require(child_text(op, "MMStatus"), "MMStatus", operation),
        "status_text": child_text(op, "StatusText"),
        "mms_relay_server_id": child_text(op, "MMSRelayServerID"),
        "timestamp": _parse_datetime(time_text),
        "applic_id": child_text(op, "ApplicID"),
        "reply_applic_id": child_text(op, "ReplyApplicID"),
        "aux_applic_info": child_text(op, "AuxApplicInfo"),
    }


def _decode_report(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> DeliveryReportRequest:
    return DeliveryReportRequest(
        **common,
        **_report_fields(op, "DeliveryReportReq"),
        called_net=child_text(op, "CalledNet"),
    )


def _decode_read_reply(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> ReadReplyRequest:
    return ReadReplyRequest(**common, **_report_fields(op, "ReadReplyReq"))


def _response_decoder(
    kind: type[Response],
) -> Callable[[etree._Element, dict[str, Any], list[MimePart], Limits], MM7Message]:
    def decode_response(
        op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
    ) -> MM7Message:
        fields = index_children(op)
        status = _read_status(op, fields)
        if kind is SubmitResponse:
            return SubmitResponse(
                **common, status=status, message_id=text_of(fields.get("MessageID"))
            )
        if kind is DeliverResponse:
            return DeliverResponse(
                **common, status=status, service_code=text_of(fields.get("ServiceCode"))
            )
        return kind(**common, status=status)

    return decode_response


_Decoder = Callable[[etree._Element, dict[str, Any], list[MimePart], Limits], MM7Message]

_DECODERS: dict[str, _Decoder] = {
    "SubmitReq": _decode_submit,
    "CancelReq": _decode_cancel,
    "ReplaceReq": _decode_replace,
    "DeliverReq": _decode_deliver,
    "DeliveryReportReq": _decode_report,
    "ReadReplyReq": _decode_read_reply,
    **{name: _response_decoder(kind) for kind, name in _RESPONSE_OPERATIONS.items()},
}


def _decode_fault(fault: etree._Element, common: dict[str, Any]) -> SoapFault:
    code = child_text(fault, "faultcode") or ""
    detail = child(fault, "detail")
    detail_kind: str | None = None
    status: Status | None = None
    if detail is not None:
        holder = next(children(detail), None)
        if holder is not None:
            name = local_name(holder.tag)
            if name == "Status":
                holder = detail
            else:
                detail_kind = name
                version = child_text(holder, "MM7Version")
                if version and not common.get("mm7_version"):
                    common["mm7_version"] = version
            try:
                status = _read_status(holder)
            except ParseError:
                status = None
    return SoapFault(
        **common,
        fault_code=code.rpartition(":")[2],
        fault_string=child_text(fault, "faultstring") or "",
        detail_kind=detail_kind,
        status=status,
    )


def decode_envelope(
    envelope: bytes,
    charset: str | None = None,
    parts: list[MimePart] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> MM7Message:
    """Decode a SOAP envelope (and the MIME parts that came with it) into a message."""
    operation, name, transaction_id = _read_operation(envelope, charset, limits)
    return _decode_operation(operation, name, transaction_id, parts or [], limits)


def _decode_operation(
    operation: etree._Element,
    name: str,
    transaction_id: str | None,
    parts: list[MimePart],
    limits: Limits,
) -> MM7Message:
    common: dict[str, Any] = {"transaction_id": transaction_id, "mm7_version": None}
    if name == "Fault":
        return _decode_fault(operation, common)
    common["mm7_version"] = child_text(operation, "MM7Version")
    return _DECODERS[name](operation, common, parts, limits)


def _read_operation(
    envelope: bytes, charset: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[etree._Element, str, str | None]:
    """Parse a SOAP envelope and find its operation: ``(element, local name, TransactionID)``.

    The name is one this codec decodes (or ``Fault``); anything else raises
    :class:`ParseError` 4003. Shared by :func:`decode_envelope` and
    :func:`summarize_request`, so both refuse the same envelopes.
    """
    root = parse_xml(envelope, charset, limits)
    if local_name(root.tag) != "Envelope":
        raise ParseError(f"not a SOAP envelope: root element is {local_name(root.tag)!r}")
    top = index_children(root)
    body = top.get("Body")
    if body is None:
        raise ParseError("SOAP envelope without Body")
    operation = next(children(body), None)
    if operation is None:
        raise ParseError("SOAP Body is empty", status_code=4004)
    name = local_name(operation.tag)
    if name != "Fault" and name not in _DECODERS:
        raise ParseError(f"unsupported MM7 operation {name!r}", status_code=4003)
    return operation, name, child_text(top.get("Header"), "TransactionID")


def decode(
    body: bytes,
    content_type: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    resolve_content: bool = True,
) -> MM7Message:
    """Decode an HTTP body carrying any MM7 message.

    Returns the request, response or :class:`~mm7client.model.SoapFault` it holds. Raises only
    :class:`~mm7client.errors.ParseError` (with the MM7 status a peer should answer).

    With ``resolve_content=False`` only the SOAP envelope is read: the message comes back with
    ``content=[]``, and the content parts' headers and bodies are left unread (the mock MMSC
    shows a message whose content is undecodable that way).
    """
    try:
        split = split_body(body, content_type, limits)
        parts = split.parts
        if resolve_content:
            for part in parts:
                part.body  # noqa: B018 - every part's transfer encoding is checked
        else:
            parts = []
        return decode_envelope(split.envelope, split.charset, parts, limits)
    except MM7Error:
        raise
    except _UNEXPECTED as exc:
        raise _unreadable(exc) from exc


# a last line of defence: hostile bytes must surface as the library's own error
_UNEXPECTED = (ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError)


def _unreadable(exc: Exception) -> ParseError:
    log.debug("unexpected decode failure", exc_info=True)
    return ParseError(f"unreadable MM7 body: {type(exc).__name__}: {exc}")


@dataclass(slots=True)  # not frozen: built per request on a hot path, 3x cheaper
class RequestSummary:
    """What an MMSC needs to answer a request, read from its SOAP envelope alone.

    ``operation`` is the local name of the SOAP Body's element (``SubmitReq``, ``CancelReq``,
    ``DeliverReq``, ``Fault``...). The SubmitReq fields are empty for other operations;
    ``message_id`` is a CancelReq's or ReplaceReq's. Every value is the one :func:`decode`
    gives the same body; addresses are their values (``recipients``: To, Cc, then Bcc).
    """

    operation: str
    transaction_id: str | None = None
    vasp_id: str | None = None
    vas_id: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    sender_address: str | None = None
    callback: str | None = None
    recipients: tuple[str, ...] = ()
    subject: str | None = None
    kisa_orig_code: str | None = None
    delivery_report: bool | None = None
    message_id: str | None = None


def summarize_request(
    body: bytes, content_type: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> RequestSummary:
    """Read the fields an MMSC answers from, without decoding the message (sans-IO).

    Nothing but the listed fields is read and no message object is built; no content part
    is read. It refuses exactly the bodies an envelope-only :func:`decode`
    (``resolve_content=False``) refuses, with the same :class:`ParseError` status (not SOAP,
    no Body, unknown operation, a SubmitReq without recipients, a CancelReq or ReplaceReq
    without MessageID, a broken MIME structure...), so a peer can answer from the summary and
    decode the message later (the mock MMSC does). A body it accepts can still fail a full
    decode in its content parts (a malformed part header, invalid base64, nesting too deep).
    Operations other than SubmitReq, CancelReq and ReplaceReq are rare at an MMSC: they are
    decoded whole and summarized by name.
    """
    try:
        split = split_body(body, content_type, limits)
        op, name, transaction_id = _read_operation(split.envelope, split.charset, limits)
        if name == "SubmitReq":
            fields = index_children(op)
            recipients = _submit_recipients(fields, _VALUES)
            sid = _sender_identification_index(op, fields)
            return RequestSummary(
                name,
                transaction_id,
                vasp_id=text_of(sid.get("VASPID")),
                vas_id=text_of(sid.get("VASID")),
                auth_password=_submit_password(sid, fields),
                sender_address=_read_address_as(sid.get("SenderAddress"), _VALUES),
                callback=_submit_callback(sid, fields),
                recipients=(*recipients["To"], *recipients["Cc"], *recipients["Bcc"]),
                subject=text_of(fields.get("Subject")),
                kisa_orig_code=text_of(fields.get("KisaOrigCode")),
                delivery_report=_parse_bool(text_of(fields.get("DeliveryReport"))),
            )
        if name in ("CancelReq", "ReplaceReq"):
            sid = _sender_identification_index(op)
            return RequestSummary(
                name,
                transaction_id,
                vasp_id=text_of(sid.get("VASPID")),
                vas_id=text_of(sid.get("VASID")),
                message_id=_require(child_text(op, "MessageID"), "MessageID", name),
            )
        # an operation a VASP does not send an MMSC: rare, so decoded (and refused) in full
        _decode_operation(op, name, transaction_id, [], limits)
        return RequestSummary(name, transaction_id)
    except MM7Error:
        raise
    except _UNEXPECTED as exc:
        raise _unreadable(exc) from exc
