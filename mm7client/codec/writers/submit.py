"""The SubmitReq writer (the VASP's main request), for every carrier profile."""

from __future__ import annotations

from mm7client.codec.encoded import EncodedMessage
from mm7client.codec.soap import XmlWriter
from mm7client.codec.validate import validate_submit
from mm7client.codec.writers.common import (
    time_text,
    write_bool,
    write_enum,
    write_recipients,
    write_sender_identification,
    write_timestamp,
)
from mm7client.codec.writers.content import encode_parts, package, write_content_element
from mm7client.model import MessageForm, SubmitRequest
from mm7client.profiles import CarrierProfile


def encode_submit(
    msg: SubmitRequest, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    validate_submit(msg, profile)
    content = encode_parts(msg.content, profile, msg.smil) if msg.content else None
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    write_sender_identification(
        w,
        profile,
        msg.vasp_id,
        msg.vas_id,
        msg.sender_address,
        msg.callback,
        msg.auth_password,
    )
    write_recipients(w, msg.to, msg.cc, msg.bcc)
    if profile.lgt_extensions and not profile.callback_in_sender_identification:
        w.element("CallBack", msg.callback)
    w.element("ServiceCode", msg.service_code)
    w.element("LinkedID", msg.linked_id)
    write_enum(w, "MessageClass", msg.message_class)
    write_timestamp(w, msg.timestamp, msg.timestamp_raw)
    if msg.reply_charging is not None:
        rc = msg.reply_charging
        attrs = ""
        if rc.reply_charging_size is not None:
            attrs += f' replyChargingSize="{rc.reply_charging_size}"'
        if rc.reply_deadline is not None:
            attrs += f' replyDeadline="{time_text(rc.reply_deadline)}"'
        w.empty("ReplyCharging", attrs)
    if msg.earliest_delivery_time is not None:
        w.element("EarliestDeliveryTime", time_text(msg.earliest_delivery_time))
    if msg.expiry_date is not None:
        w.element("ExpiryDate", time_text(msg.expiry_date))
    write_bool(w, "DeliveryReport", msg.delivery_report)
    write_bool(w, "ReadReply", msg.read_reply)
    write_enum(w, "Priority", msg.priority)
    if profile.lgt_extensions:
        # LGT's sample: DistributionIndicator and KisaOrigCode come before Subject.
        write_enum(w, "ChargedParty", msg.charged_party)
        write_bool(w, "DistributionIndicator", msg.distribution_indicator)
        w.element("KisaOrigCode", msg.kisa_orig_code)
        w.element("Subject", msg.subject)
    else:
        w.element("Subject", msg.subject)
        write_enum(w, "ChargedParty", msg.charged_party)
        if profile.rel6_elements:
            w.element("ChargedPartyID", msg.charged_party_id)
        write_bool(w, "DistributionIndicator", msg.distribution_indicator)
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
            write_bool(w, "DRMContent", msg.drm_content)
    write_content_element(w, profile, content, msg.allow_adaptations)
    return package(w.envelope("SubmitReq", tid), profile, tid, content)
