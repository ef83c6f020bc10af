"""The writers of the other requests: CancelReq, ReplaceReq (VASP -> MMSC), DeliverReq,
DeliveryReportReq and ReadReplyReq (MMSC -> VASP)."""

from __future__ import annotations

from mm7client.codec.encoded import EncodedMessage
from mm7client.codec.soap import XmlWriter
from mm7client.codec.validate import validate_replace
from mm7client.codec.writers.common import (
    time_text,
    write_address,
    write_bool,
    write_enum,
    write_recipients,
    write_sender,
    write_sender_identification,
    write_timestamp,
)
from mm7client.codec.writers.content import encode_parts, package, write_content_element
from mm7client.errors import ValidationError
from mm7client.model import (
    CancelRequest,
    DeliverRequest,
    DeliveryReportRequest,
    MessageForm,
    ReadReplyRequest,
    ReplaceRequest,
)
from mm7client.profiles import CarrierProfile


def encode_cancel(
    msg: CancelRequest, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    if not msg.message_id:
        raise ValidationError("MessageID", msg.message_id, "required")
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    write_sender_identification(
        w, profile, msg.vasp_id, msg.vas_id, msg.sender_address, None, msg.auth_password
    )
    w.element("MessageID", msg.message_id)
    return package(w.envelope("CancelReq", tid), profile, tid, None)


def encode_replace(
    msg: ReplaceRequest, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    validate_replace(msg, profile)
    content = encode_parts(msg.content, profile, msg.smil) if msg.content else None
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    write_sender_identification(w, profile, msg.vasp_id, msg.vas_id, None, None, msg.auth_password)
    w.element("MessageID", msg.message_id)
    w.element("ServiceCode", msg.service_code)
    write_timestamp(w, msg.timestamp, msg.timestamp_raw)
    write_bool(w, "ReadReply", msg.read_reply)
    if msg.earliest_delivery_time is not None:
        w.element("EarliestDeliveryTime", time_text(msg.earliest_delivery_time))
    write_bool(w, "DistributionIndicator", msg.distribution_indicator)
    write_content_element(w, profile, content, msg.allow_adaptations)
    return package(w.envelope("ReplaceReq", tid), profile, tid, content)


def encode_deliver(
    msg: DeliverRequest, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    content = encode_parts(msg.content, profile, None) if msg.content else None
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    w.element("MMSRelayServerID", msg.mms_relay_server_id)
    w.element("LinkedID", msg.linked_id)
    write_sender(w, msg.sender)
    if msg.to or msg.cc or msg.bcc:
        write_recipients(w, msg.to, msg.cc, msg.bcc)
    write_timestamp(w, msg.timestamp, msg.timestamp_raw)
    w.element("ReplyChargingID", msg.reply_charging_id)
    write_enum(w, "Priority", msg.priority)
    w.element("Subject", msg.subject)
    if profile.rel6_elements:
        w.element("ApplicID", msg.applic_id)
        w.element("ReplyApplicID", msg.reply_applic_id)
        w.element("AuxApplicInfo", msg.aux_applic_info)
    write_content_element(w, profile, content, None)
    return package(w.envelope("DeliverReq", tid), profile, tid, content)


def encode_report(
    msg: DeliveryReportRequest | ReadReplyRequest,
    profile: CarrierProfile,
    form: MessageForm,
    tid: str,
) -> EncodedMessage:
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    w.element("MMSRelayServerID", msg.mms_relay_server_id)
    # LGT's delivery reports name the sender before the MessageID; TS 23.140 (and every read
    # reply) puts it after Recipient.
    sender_first = profile.lgt_extensions and isinstance(msg, DeliveryReportRequest)
    if sender_first:
        write_sender(w, msg.sender)
    w.element("MessageID", msg.message_id)
    w.open("Recipient")
    write_address(w, msg.recipient)
    w.close("Recipient")
    if not sender_first:
        write_sender(w, msg.sender)
    write_timestamp(w, msg.timestamp, msg.timestamp_raw)
    w.element("MMStatus", msg.mm_status)
    w.element("StatusText", msg.status_text)
    if isinstance(msg, DeliveryReportRequest) and profile.lgt_extensions:
        w.element("CalledNet", msg.called_net)
    if profile.rel6_elements:
        w.element("ApplicID", msg.applic_id)
        w.element("ReplyApplicID", msg.reply_applic_id)
        w.element("AuxApplicInfo", msg.aux_applic_info)
    operation = "DeliveryReportReq" if isinstance(msg, DeliveryReportRequest) else "ReadReplyReq"
    return package(w.envelope(operation, tid), profile, tid, None)
