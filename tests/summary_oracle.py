"""Oracle for ``summarize_request``: the summary a decoded message implies.

``summarize_request`` is a second reader of the SOAP envelope (the mock MMSC answers from it);
these helpers let tests check it against ``decode`` on the same bytes, field by field and
error by error.

Usage::

    from summary_oracle import assert_summary_agrees
    assert_summary_agrees(body, content_type, limits)
"""

from __future__ import annotations

import pytest

from mm7client.codec import Limits, RequestSummary, decode, summarize_request
from mm7client.errors import ParseError
from mm7client.model import (
    CancelRequest,
    CancelResponse,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MM7Message,
    ReadReplyRequest,
    ReadReplyResponse,
    ReplaceRequest,
    ReplaceResponse,
    SoapFault,
    SubmitRequest,
    SubmitResponse,
)

OPERATION_NAMES: dict[type[MM7Message], str] = {
    SubmitRequest: "SubmitReq",
    CancelRequest: "CancelReq",
    ReplaceRequest: "ReplaceReq",
    DeliverRequest: "DeliverReq",
    DeliveryReportRequest: "DeliveryReportReq",
    ReadReplyRequest: "ReadReplyReq",
    SubmitResponse: "SubmitRsp",
    CancelResponse: "CancelRsp",
    ReplaceResponse: "ReplaceRsp",
    DeliverResponse: "DeliverRsp",
    DeliveryReportResponse: "DeliveryReportRsp",
    ReadReplyResponse: "ReadReplyRsp",
    SoapFault: "Fault",
}


def expected_summary(message: MM7Message) -> RequestSummary:
    """The summary of ``message`` as ``decode`` gave it."""
    name = OPERATION_NAMES[type(message)]
    if isinstance(message, SubmitRequest):
        return RequestSummary(
            name,
            message.transaction_id,
            vasp_id=message.vasp_id,
            vas_id=message.vas_id,
            auth_password=message.auth_password,
            sender_address=message.sender_address.value if message.sender_address else None,
            callback=message.callback,
            recipients=tuple(a.value for a in message.recipients),
            subject=message.subject,
            kisa_orig_code=message.kisa_orig_code,
            delivery_report=message.delivery_report,
            form=message.form,
        )
    if isinstance(message, CancelRequest | ReplaceRequest):
        return RequestSummary(
            name,
            message.transaction_id,
            vasp_id=message.vasp_id,
            vas_id=message.vas_id,
            message_id=message.message_id,
            form=message.form,
        )
    return RequestSummary(name, message.transaction_id, form=message.form)


def assert_summary_agrees(body: bytes, content_type: str | None, limits: Limits) -> None:
    """``summarize_request`` and an envelope-only ``decode`` accept and refuse the same bodies
    (same status), and agree on every summarized field."""
    try:
        message = decode(body, content_type, limits, resolve_content=False)
    except ParseError as exc:
        with pytest.raises(ParseError) as refused:
            summarize_request(body, content_type, limits)
        assert refused.value.status_code == exc.status_code, (str(refused.value), str(exc))
        assert refused.value.transaction_id == exc.transaction_id
        return
    assert summarize_request(body, content_type, limits) == expected_summary(message)
