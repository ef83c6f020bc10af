"""The MM7 message model: plain dataclasses, no I/O.

One dataclass per MM7 message of 3GPP TS 23.140 (SubmitReq, CancelReq, ReplaceReq and their
responses; the MMSC-originated DeliverReq, DeliveryReportReq, ReadReplyReq and the VASP's
responses to them; SOAP faults). The codec in :mod:`mm7client.codec` turns them into bytes and
back. Field names are the MM7 element names in snake_case.

Every message carries ``transaction_id``: ``None`` on a message you build lets the encoder
generate one; a decoded message holds the one it arrived with.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

__all__ = [
    "Address",
    "AddressKind",
    "CancelRequest",
    "CancelResponse",
    "ChargedParty",
    "DeliverRequest",
    "DeliverResponse",
    "DeliveryReportRequest",
    "DeliveryReportResponse",
    "FormStyle",
    "MM7Message",
    "MessageClass",
    "MessageForm",
    "Part",
    "Priority",
    "ReadReplyRequest",
    "ReadReplyResponse",
    "RecipientReport",
    "ReplaceRequest",
    "ReplaceResponse",
    "ReplyCharging",
    "Response",
    "SoapFault",
    "Status",
    "SubmitRequest",
    "SubmitResponse",
    "TimeValue",
]

#: An absolute time, or a relative one (``timedelta`` is written as an xs:duration).
TimeValue = datetime | timedelta

#: How the MM7 elements of a message are written (see :class:`MessageForm`).
FormStyle = Literal["lgt", "default-ns", "prefixed"]


@dataclass(frozen=True, slots=True)
class MessageForm:
    """The form of an MM7 message on the wire: its namespace, MM7Version and XML style.

    ``style`` is one of:

    * ``"default-ns"`` - the MM7 namespace is the default namespace of the operation element,
      children unprefixed: ``<SubmitRsp xmlns="NS"><MM7Version>``. Read alike by peers that
      look children up in the MM7 namespace and by peers that ignore namespaces; the
      standard (3GPP) profile writes it.
    * ``"prefixed"`` - ``mm7:`` on the operation and on every child:
      ``<mm7:SubmitRsp xmlns:mm7="NS"><mm7:MM7Version>`` (TS 23.140's samples).
    * ``"lgt"`` - ``mm7:`` on the operation only, children unqualified:
      ``<mm7:SubmitRsp xmlns:mm7="NS"><MM7Version>`` (LG U+'s carrier form).

    :func:`mm7client.codec.decode` fills ``form`` on every message it reads (and
    :func:`~mm7client.codec.summarize_request` on its summary), so a server can answer in the
    form a request arrived in: ``encode(response, profile, form=request.form)``. An empty
    ``namespace`` (a peer that sent the operation unqualified) or ``version`` is written as the
    profile's.
    """

    namespace: str
    version: str = ""
    style: FormStyle = "default-ns"

    def __post_init__(self) -> None:
        if self.style not in _FORM_STYLES:
            raise ValueError(
                f"style={self.style!r}: expected one of {', '.join(map(repr, _FORM_STYLES))}"
            )

    @property
    def qualified(self) -> bool:
        """True when the children are in the MM7 namespace (every style but ``"lgt"``)."""
        return self.style != "lgt"


_FORM_STYLES: tuple[str, ...] = get_args(FormStyle)


class AddressKind(enum.StrEnum):
    """How an address is written: the MM7 element that wraps it."""

    NUMBER = "Number"
    SHORT_CODE = "ShortCode"
    EMAIL = "RFC2822Address"


class MessageClass(enum.StrEnum):
    """MM7 MessageClass."""

    PERSONAL = "Personal"
    INFORMATIONAL = "Informational"
    ADVERTISEMENT = "Advertisement"
    AUTO = "Auto"


class Priority(enum.StrEnum):
    """MM7 Priority."""

    NORMAL = "Normal"
    HIGH = "High"
    LOW = "Low"


class ChargedParty(enum.StrEnum):
    """MM7 ChargedParty."""

    SENDER = "Sender"
    RECIPIENT = "Recipient"
    BOTH = "Both"
    NEITHER = "Neither"
    THIRD_PARTY = "ThirdParty"


@dataclass(frozen=True, slots=True)
class Address:
    """One MM7 address: a phone number, a short code or an e-mail address.

    ``Address("01012345678")`` is a number; use :meth:`short_code` or :meth:`email` for the
    others.
    """

    value: str
    kind: AddressKind = AddressKind.NUMBER
    display_only: bool = False

    @classmethod
    def number(cls, value: str, *, display_only: bool = False) -> Address:
        """A ``<Number>`` address (MSISDN)."""
        return cls(value, AddressKind.NUMBER, display_only)

    @classmethod
    def short_code(cls, value: str, *, display_only: bool = False) -> Address:
        """A ``<ShortCode>`` address."""
        return cls(value, AddressKind.SHORT_CODE, display_only)

    @classmethod
    def email(cls, value: str, *, display_only: bool = False) -> Address:
        """An ``<RFC2822Address>`` address."""
        return cls(value, AddressKind.EMAIL, display_only)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Part:
    """One content part of a multimedia message (text, image, SMIL or any file).

    Text parts keep ``text`` and are encoded in the carrier profile's charset when the message is
    built; binary parts keep ``data``. Decoded parts have both ``data`` (the decoded bytes) and,
    for text, ``text``.

    Attributes:
        content_type: the media type without parameters, e.g. ``"image/jpeg"``.
        data: the part's bytes (for a text part built by you, empty until encoded).
        text: the text of a ``text/*`` or SMIL part, else ``None``.
        filename: written as ``Content-Location`` (and the SMIL ``src``).
        content_id: the Content-ID without angle brackets; generated when ``None``.
        charset: the charset a decoded text part declared (``None`` when built by you: the
            profile decides).
        headers: extra MIME headers for this part, e.g. ``{"X-Kmms-SVCCODE": "..."}``.
    """

    content_type: str
    data: bytes = field(default=b"", repr=False)
    text: str | None = field(default=None, repr=False)
    filename: str | None = None
    content_id: str | None = None
    charset: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        filename: str | None = None,
        content_type: str = "text/plain",
        content_id: str | None = None,
    ) -> Part:
        """A text part; it is encoded in the profile's charset when the message is built."""
        return cls(content_type, text=text, filename=filename, content_id=content_id)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        content_type: str,
        *,
        filename: str | None = None,
        content_id: str | None = None,
    ) -> Part:
        """A binary part such as an image, audio clip or any file."""
        return cls(content_type, data=data, filename=filename, content_id=content_id)

    @classmethod
    def jpeg(cls, data: bytes, *, filename: str | None = None) -> Part:
        """A JPEG image part (the image type every Korean carrier accepts)."""
        return cls("image/jpeg", data=data, filename=filename)

    @property
    def is_text(self) -> bool:
        """True for parts carried as text (``text/*`` and SMIL)."""
        return self.text is not None

    @property
    def is_smil(self) -> bool:
        """True for a SMIL presentation part."""
        return self.content_type == "application/smil"


@dataclass(frozen=True, slots=True)
class ReplyCharging:
    """MM7 ReplyCharging: the sender pays for a reply up to a size and deadline."""

    reply_charging_size: int | None = None
    reply_deadline: TimeValue | None = None


@dataclass(frozen=True, slots=True, init=False)
class Status:
    """The ``<Status>`` of a response: code, text and optional details.

    ``code`` is the raw StatusCode text as received (carriers send garbage sometimes); use
    :attr:`code_int` for the number, and :mod:`mm7client.codes` to normalize it. Built by you,
    the code may be given as an int: ``Status(1000)`` equals ``Status("1000")``.
    """

    code: str
    text: str | None
    details: str | None

    def __init__(
        self, code: str | int, text: str | None = None, details: str | None = None
    ) -> None:
        if code.__class__ is not str:  # the decoders' case first: a str
            if isinstance(code, bool) or not isinstance(code, str | int):
                raise TypeError(
                    f"Status code={code!r}: expected the status code as str or int, "
                    f"not {type(code).__name__}"
                )
            code = str(code)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "details", details)

    @classmethod
    def of(cls, code: int, text: str | None = None, details: str | None = None) -> Status:
        """A status from a numeric code."""
        return cls(str(code), text, details)

    @property
    def code_int(self) -> int | None:
        """The code as an integer, or ``None`` when it is not a number."""
        try:
            return int(self.code.strip())
        except ValueError:
            return None

    @property
    def is_success(self) -> bool:
        """True for 1xxx codes."""
        value = self.code_int
        return value is not None and 1000 <= value < 2000


@dataclass(slots=True, kw_only=True)
class MM7Message:
    """Fields every MM7 message has.

    ``form`` is the form a decoded message arrived in (namespace, MM7Version, style; ``None``
    on a message you build). It is not compared: a message equals its re-encoded copy.
    """

    transaction_id: str | None = None
    mm7_version: str | None = None
    form: MessageForm | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# VASP -> MMSC requests


@dataclass(slots=True, kw_only=True)
class SubmitRequest(MM7Message):
    """MM7 SubmitReq: a VASP sends a multimedia message to one or more recipients.

    ``to`` / ``cc`` / ``bcc`` take :class:`Address` objects or plain strings (numbers).
    ``vasp_id`` / ``vas_id`` are usually filled in by the client from its configuration.
    With ``smil=None`` and no SMIL part in ``content``, the encoder generates a presentation;
    ``smil=False`` sends the parts as ``multipart/mixed`` without one.
    """

    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    vasp_id: str | None = None
    vas_id: str | None = None
    sender_address: Address | None = None
    callback: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    service_code: str | None = None
    linked_id: str | None = None
    message_class: MessageClass | None = None
    timestamp: datetime | None = None
    #: the TimeStamp text as received when it is not ISO 8601 (``timestamp`` is then what could
    #: be read from it, or ``None``); written as is when ``timestamp`` is ``None``
    timestamp_raw: str | None = None
    reply_charging: ReplyCharging | None = None
    earliest_delivery_time: TimeValue | None = None
    expiry_date: TimeValue | None = None
    delivery_report: bool | None = None
    read_reply: bool | None = None
    priority: Priority | None = None
    subject: str | None = None
    charged_party: ChargedParty | None = None
    distribution_indicator: bool | None = None
    kisa_orig_code: str | None = None
    # REL-6 additions
    applic_id: str | None = None
    reply_applic_id: str | None = None
    aux_applic_info: str | None = None
    charged_party_id: str | None = None
    delivery_condition: list[int] = field(default_factory=list)
    content_class: str | None = None
    drm_content: bool | None = None
    # Content
    content: list[Part] = field(default_factory=list)
    allow_adaptations: bool | None = None
    smil: bool | None = None

    def __post_init__(self) -> None:
        self.to = _addresses(self.to)
        self.cc = _addresses(self.cc)
        self.bcc = _addresses(self.bcc)
        if isinstance(self.sender_address, str):
            self.sender_address = Address(self.sender_address)

    @property
    def recipients(self) -> list[Address]:
        """All recipients: To, then Cc, then Bcc."""
        return [*self.to, *self.cc, *self.bcc]


@dataclass(slots=True, kw_only=True)
class CancelRequest(MM7Message):
    """MM7 CancelReq: withdraw a previously submitted message by its MessageID."""

    message_id: str
    vasp_id: str | None = None
    vas_id: str | None = None
    sender_address: Address | None = None
    auth_password: str | None = field(default=None, repr=False)


@dataclass(slots=True, kw_only=True)
class ReplaceRequest(MM7Message):
    """MM7 ReplaceReq: replace the content of a previously submitted message."""

    message_id: str
    vasp_id: str | None = None
    vas_id: str | None = None
    auth_password: str | None = field(default=None, repr=False)
    service_code: str | None = None
    timestamp: datetime | None = None
    #: the TimeStamp text as received when it is not ISO 8601 (``timestamp`` is then what could
    #: be read from it, or ``None``); written as is when ``timestamp`` is ``None``
    timestamp_raw: str | None = None
    read_reply: bool | None = None
    earliest_delivery_time: TimeValue | None = None
    distribution_indicator: bool | None = None
    content: list[Part] = field(default_factory=list)
    allow_adaptations: bool | None = None
    smil: bool | None = None


# ---------------------------------------------------------------------------------------------
# Responses (both directions share the shape)


@dataclass(slots=True, kw_only=True)
class Response(MM7Message):
    """Base of every ``*Rsp``: a status."""

    status: Status


@dataclass(slots=True, kw_only=True)
class SubmitResponse(Response):
    """MM7 SubmitRsp: the MMSC's answer to a SubmitReq, with the MessageID on success."""

    message_id: str | None = None


@dataclass(slots=True, kw_only=True)
class CancelResponse(Response):
    """MM7 CancelRsp."""


@dataclass(slots=True, kw_only=True)
class ReplaceResponse(Response):
    """MM7 ReplaceRsp."""


@dataclass(slots=True, kw_only=True)
class DeliverResponse(Response):
    """MM7 DeliverRsp: the VASP's answer to an MO message."""

    service_code: str | None = None


@dataclass(slots=True, kw_only=True)
class DeliveryReportResponse(Response):
    """MM7 DeliveryReportRsp: the VASP acknowledges a delivery report."""


@dataclass(slots=True, kw_only=True)
class ReadReplyResponse(Response):
    """MM7 ReadReplyRsp: the VASP acknowledges a read reply."""


@dataclass(slots=True, kw_only=True)
class SoapFault(MM7Message):
    """A SOAP 1.1 Fault, with the RSErrorRsp / VASPErrorRsp status when the peer sent one.

    Attributes:
        fault_code: ``faultcode`` without its prefix, e.g. ``"Client"`` or ``"Server"``.
        fault_string: ``faultstring``.
        detail_kind: ``"RSErrorRsp"``, ``"VASPErrorRsp"`` or ``None``.
        status: the MM7 status inside the detail, if any.
    """

    fault_code: str
    fault_string: str = ""
    detail_kind: str | None = None
    status: Status | None = None


# ---------------------------------------------------------------------------------------------
# MMSC -> VASP requests


@dataclass(slots=True, kw_only=True)
class DeliverRequest(MM7Message):
    """MM7 DeliverReq: a mobile-originated message delivered to the VASP."""

    sender: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    mms_relay_server_id: str | None = None
    linked_id: str | None = None
    timestamp: datetime | None = None
    #: the TimeStamp text as received when it is not ISO 8601 (``timestamp`` is then what could
    #: be read from it, or ``None``); written as is when ``timestamp`` is ``None``
    timestamp_raw: str | None = None
    reply_charging_id: str | None = None
    priority: Priority | None = None
    subject: str | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None
    aux_applic_info: str | None = None
    content: list[Part] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.to = _addresses(self.to)
        self.cc = _addresses(self.cc)
        self.bcc = _addresses(self.bcc)
        if isinstance(self.sender, str):
            self.sender = Address(self.sender)


@dataclass(slots=True, kw_only=True)
class RecipientReport(MM7Message):
    """Fields shared by delivery reports and read replies: one message, one recipient.

    ``mm_status`` is kept as received (carriers add their own values, e.g. LGT's
    ``PPSRejected``); ``status_text`` is LGT's ``OK`` / ``NOK``. Addresses given as plain strings
    become numbers.
    """

    message_id: str
    recipient: Address
    sender: Address | None = None
    mm_status: str = ""
    status_text: str | None = None
    mms_relay_server_id: str | None = None
    timestamp: datetime | None = None
    #: the TimeStamp text as received when it is not ISO 8601 (``timestamp`` is then what could
    #: be read from it, or ``None``); written as is when ``timestamp`` is ``None``
    timestamp_raw: str | None = None
    applic_id: str | None = None
    reply_applic_id: str | None = None
    aux_applic_info: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.recipient, str):
            self.recipient = Address(self.recipient)
        if isinstance(self.sender, str):
            self.sender = Address(self.sender)


@dataclass(slots=True, kw_only=True)
class DeliveryReportRequest(RecipientReport):
    """MM7 DeliveryReportReq: the fate of one submitted message for one recipient."""

    called_net: str | None = None


@dataclass(slots=True, kw_only=True)
class ReadReplyRequest(RecipientReport):
    """MM7 ReadReplyReq: the recipient read (or deleted) a message."""


def _addresses(values: list[Address] | list[str] | list[Address | str]) -> list[Address]:
    return [v if isinstance(v, Address) else Address(str(v)) for v in values]
