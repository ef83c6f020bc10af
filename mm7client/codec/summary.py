"""The request summary: the few fields an MMSC answers from, read without decoding the message."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from mm7client.codec.mime import DEFAULT_LIMITS, Limits
from mm7client.codec.readers import (
    decode_operation,
    note_transaction_id,
    parse_failure,
    read_operation,
)
from mm7client.codec.readers.body import split_body
from mm7client.codec.readers.fields import (
    VALUES,
    read_address_as,
    read_form,
    read_version_and_form,
    require,
    sender_identification_index,
    submit_callback,
    submit_password,
    submit_recipients,
)
from mm7client.codec.readers.values import parse_bool
from mm7client.codec.soap import child_text, index_children, text_of
from mm7client.errors import ParseError
from mm7client.model import MessageForm


@dataclass(slots=True)  # not frozen: built per request on a hot path, 3x cheaper
class RequestSummary:
    """What an MMSC needs to answer a request, read from its SOAP envelope alone.

    ``operation`` is the local name of the SOAP Body's element (``SubmitReq``, ``CancelReq``,
    ``DeliverReq``, ``Fault``...). The SubmitReq fields are empty for other operations;
    ``message_id`` is a CancelReq's or ReplaceReq's. Every value is the one :func:`decode`
    gives the same body; addresses are their values (``recipients``: To, Cc, then Bcc).

    ``form`` is the form the request arrived in (its MM7 namespace, MM7Version and style; see
    :class:`~mm7client.model.MessageForm`): answer in it with
    ``encode(response, profile, form=summary.form)`` or ``PreparedResponse(..., form=...)``.
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
    form: MessageForm | None = None


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
        op, name, transaction_id = read_operation(split.envelope, split.charset, limits)
        return _summarize(op, name, transaction_id, limits)
    except Exception as exc:
        failure = parse_failure(exc, body)
        if failure is exc:
            raise
        raise failure from exc


def _summarize(
    op: etree._Element, name: str, transaction_id: str | None, limits: Limits
) -> RequestSummary:
    try:
        if name == "SubmitReq":
            fields = index_children(op)
            recipients = submit_recipients(fields, VALUES)
            sid = sender_identification_index(op, fields)
            form = read_form(op, text_of(fields.get("MM7Version")))
            return RequestSummary(
                name,
                transaction_id,
                vasp_id=text_of(sid.get("VASPID")),
                vas_id=text_of(sid.get("VASID")),
                auth_password=submit_password(sid, fields),
                sender_address=read_address_as(sid.get("SenderAddress"), VALUES),
                callback=submit_callback(sid, fields),
                recipients=(*recipients["To"], *recipients["Cc"], *recipients["Bcc"]),
                subject=text_of(fields.get("Subject")),
                kisa_orig_code=text_of(fields.get("KisaOrigCode")),
                delivery_report=parse_bool(text_of(fields.get("DeliveryReport"))),
                form=form,
            )
        if name in ("CancelReq", "ReplaceReq"):
            sid = sender_identification_index(op)
            return RequestSummary(
                name,
                transaction_id,
                vasp_id=text_of(sid.get("VASPID")),
                vas_id=text_of(sid.get("VASID")),
                message_id=require(child_text(op, "MessageID"), "MessageID", name),
                form=read_version_and_form(op)[1],
            )
        # an operation a VASP does not send an MMSC: rare, so decoded (and refused) in full
        message = decode_operation(op, name, transaction_id, [], limits)
        return RequestSummary(name, transaction_id, form=message.form)
    except ParseError as exc:
        note_transaction_id(exc, transaction_id)
        raise
