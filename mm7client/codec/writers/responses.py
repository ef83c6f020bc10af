"""The writers of every response (*Rsp) and of SOAP faults."""

from __future__ import annotations

from mm7client.codec.encoded import EncodedMessage
from mm7client.codec.operation_names import RESPONSE_OPERATIONS
from mm7client.codec.soap import XmlWriter, xml_escape
from mm7client.codec.writers.common import write_status
from mm7client.codec.writers.content import package
from mm7client.model import DeliverResponse, MessageForm, Response, SoapFault, SubmitResponse
from mm7client.profiles import CarrierProfile


def encode_response(
    msg: Response, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    w = XmlWriter(profile, form)
    w.version(msg.mm7_version)
    write_status(w, msg.status)
    if isinstance(msg, SubmitResponse):
        w.element("MessageID", msg.message_id)
    if isinstance(msg, DeliverResponse):
        w.element("ServiceCode", msg.service_code)
    return package(w.envelope(RESPONSE_OPERATIONS[type(msg)], tid), profile, tid, None)


def encode_fault(
    msg: SoapFault, profile: CarrierProfile, form: MessageForm, tid: str
) -> EncodedMessage:
    detail = ""
    if msg.status is not None:
        kind = msg.detail_kind or "RSErrorRsp"
        w = XmlWriter(profile, form)
        w.version(msg.mm7_version)
        write_status(w, msg.status)
        detail = f"<detail>{w.wrapped(kind)}</detail>"
    code = msg.fault_code if ":" in msg.fault_code else f"env:{msg.fault_code}"
    fault = (
        f"<env:Fault><faultcode>{xml_escape(code)}</faultcode>"
        f"<faultstring>{xml_escape(msg.fault_string)}</faultstring>{detail}</env:Fault>"
    )
    envelope = XmlWriter(profile, form).envelope("Fault", tid, fault=fault)
    return package(envelope, profile, tid, None)
