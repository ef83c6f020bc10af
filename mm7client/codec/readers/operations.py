"""One reader per MM7 operation (requests, responses, SOAP faults), from its parsed element."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lxml import etree

from mm7client.codec.mime import Limits, MimePart
from mm7client.codec.operation_names import RESPONSE_OPERATIONS
from mm7client.codec.readers.body import resolve_content
from mm7client.codec.readers.fields import (
    ADDRESSES,
    content_fields,
    read_address,
    read_recipients,
    read_status,
    read_version_and_form,
    require,
    sender_identification_fields,
    sender_identification_index,
    submit_callback,
    submit_password,
    submit_recipients,
)
from mm7client.codec.readers.values import (
    E,
    parse_bool,
    parse_count,
    parse_enum,
    parse_time,
    parse_timestamp,
)
from mm7client.codec.soap import child, child_text, children, index_children, local_name, text_of
from mm7client.errors import ParseError
from mm7client.model import (
    CancelRequest,
    ChargedParty,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    MessageClass,
    MM7Message,
    Priority,
    ReadReplyRequest,
    ReplaceRequest,
    ReplyCharging,
    Response,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)


def _enum_parser(kind: type[E]) -> Callable[[str], E | None]:
    return functools.partial(parse_enum, kind)


# SubmitReq's simple elements: element -> (field, parser of its stripped text or None for
# the text itself). Read in one pass over the elements present (most are optional and absent).
_SUBMIT_SIMPLE_FIELDS: dict[str, tuple[str, Callable[[str], Any] | None]] = {
    "ServiceCode": ("service_code", None),
    "LinkedID": ("linked_id", None),
    "MessageClass": ("message_class", _enum_parser(MessageClass)),
    "EarliestDeliveryTime": ("earliest_delivery_time", parse_time),
    "ExpiryDate": ("expiry_date", parse_time),
    "DeliveryReport": ("delivery_report", parse_bool),
    "ReadReply": ("read_reply", parse_bool),
    "Priority": ("priority", _enum_parser(Priority)),
    "Subject": ("subject", None),
    "ChargedParty": ("charged_party", _enum_parser(ChargedParty)),
    "DistributionIndicator": ("distribution_indicator", parse_bool),
    "KisaOrigCode": ("kisa_orig_code", None),
    "ApplicID": ("applic_id", None),
    "ReplyApplicID": ("reply_applic_id", None),
    "AuxApplicInfo": ("aux_applic_info", None),
    "ChargedPartyID": ("charged_party_id", None),
    "ContentClass": ("content_class", None),
    "DRMContent": ("drm_content", parse_bool),
}


def timestamp_fields(text: str | None) -> dict[str, Any]:
    """``timestamp`` and ``timestamp_raw`` of a TimeStamp's text (see ``parse_timestamp``)."""
    timestamp, raw = parse_timestamp(text)
    return {"timestamp": timestamp, "timestamp_raw": raw}


def _decode_submit(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> SubmitRequest:
    # One pass over the children; every field below is a dict lookup.
    fields = index_children(op)
    recipients = submit_recipients(fields, ADDRESSES)
    values: dict[str, Any] = {}
    simple = _SUBMIT_SIMPLE_FIELDS
    for name, element in fields.items():
        spec = simple.get(name)
        if spec is not None:
            text = element.text
            text = text.strip() if text else ""
            values[spec[0]] = text if spec[1] is None else spec[1](text)
    stamp = fields.get("TimeStamp")
    if stamp is not None:
        values.update(timestamp_fields(text_of(stamp)))
    sid_fields = sender_identification_index(op, fields)
    callback = submit_callback(sid_fields, fields)
    password = submit_password(sid_fields, fields)
    reply = fields.get("ReplyCharging")
    if reply is not None:
        size = reply.get("replyChargingSize")
        values["reply_charging"] = ReplyCharging(
            parse_count(size), parse_time(reply.get("replyDeadline"))
        )
    if "DeliveryCondition" in fields:
        conditions = (
            parse_count(dc.text)
            for group in children(op, "DeliveryCondition")
            for dc in children(group, "DC")
        )
        values["delivery_condition"] = [dc for dc in conditions if dc is not None]
    return SubmitRequest(
        **common,
        **sender_identification_fields(op, sid_fields),
        to=recipients["To"],
        cc=recipients["Cc"],
        bcc=recipients["Bcc"],
        callback=callback,
        auth_password=password,
        **values,
        **content_fields(fields.get("Content"), parts, limits),
    )


def _decode_cancel(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> CancelRequest:
    sid = sender_identification_fields(op)
    return CancelRequest(
        **common,
        **sid,
        message_id=require(child_text(op, "MessageID"), "MessageID", "CancelReq"),
    )


def _decode_replace(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> ReplaceRequest:
    sid = sender_identification_fields(op)
    content = child(op, "Content")
    return ReplaceRequest(
        **common,
        vasp_id=sid["vasp_id"],
        vas_id=sid["vas_id"],
        message_id=require(child_text(op, "MessageID"), "MessageID", "ReplaceReq"),
        service_code=child_text(op, "ServiceCode"),
        **timestamp_fields(child_text(op, "TimeStamp")),
        read_reply=parse_bool(child_text(op, "ReadReply")),
        earliest_delivery_time=parse_time(child_text(op, "EarliestDeliveryTime")),
        distribution_indicator=parse_bool(child_text(op, "DistributionIndicator")),
        **content_fields(content, parts, limits),
    )


def _decode_deliver(
    op: etree._Element, common: dict[str, Any], parts: list[MimePart], limits: Limits
) -> DeliverRequest:
    recipients = read_recipients(child(op, "Recipients"))
    return DeliverRequest(
        **common,
        sender=read_address(child(op, "Sender")),
        to=recipients["To"],
        cc=recipients["Cc"],
        bcc=recipients["Bcc"],
        mms_relay_server_id=child_text(op, "MMSRelayServerID"),
        linked_id=child_text(op, "LinkedID"),
        **timestamp_fields(child_text(op, "TimeStamp")),
        reply_charging_id=child_text(op, "ReplyChargingID"),
        priority=parse_enum(Priority, child_text(op, "Priority")),
        subject=child_text(op, "Subject"),
        applic_id=child_text(op, "ApplicID"),
        reply_applic_id=child_text(op, "ReplyApplicID"),
        aux_applic_info=child_text(op, "AuxApplicInfo"),
        content=resolve_content(child(op, "Content"), parts, limits),
    )


def _report_fields(op: etree._Element, operation: str) -> dict[str, Any]:
    recipient = read_address(child(op, "Recipient"))
    if recipient is None:
        listed = read_recipients(child(op, "Recipients"))
        found = listed["To"] or listed["Cc"] or listed["Bcc"]
        recipient = found[0] if found else None
    if recipient is None:
        raise ParseError(f"{operation} without Recipient", status_code=4004)
    time_text = child_text(op, "TimeStamp") or child_text(op, "Date")
    return {
        "message_id": require(child_text(op, "MessageID"), "MessageID", operation),
        "recipient": recipient,
        "sender": read_address(child(op, "Sender")),
        "mm_status": require(child_text(op, "MMStatus"), "MMStatus", operation),
        "status_text": child_text(op, "StatusText"),
        "mms_relay_server_id": child_text(op, "MMSRelayServerID"),
        **timestamp_fields(time_text),
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
        status = read_status(op, fields)
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

DECODERS: dict[str, _Decoder] = {
    "SubmitReq": _decode_submit,
    "CancelReq": _decode_cancel,
    "ReplaceReq": _decode_replace,
    "DeliverReq": _decode_deliver,
    "DeliveryReportReq": _decode_report,
    "ReadReplyReq": _decode_read_reply,
    **{name: _response_decoder(kind) for kind, name in RESPONSE_OPERATIONS.items()},
}


def decode_fault(fault: etree._Element, common: dict[str, Any]) -> SoapFault:
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
                version, common["form"] = read_version_and_form(holder)
                if version and not common.get("mm7_version"):
                    common["mm7_version"] = version
            try:
                status = read_status(holder)
            except ParseError:
                status = None
    return SoapFault(
        **common,
        fault_code=code.rpartition(":")[2],
        fault_string=child_text(fault, "faultstring") or "",
        detail_kind=detail_kind,
        status=status,
    )
