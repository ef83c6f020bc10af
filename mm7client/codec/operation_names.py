"""The MM7 operation names of the model's responses (shared by the writers and the readers)."""

from __future__ import annotations

from mm7client.model import (
    CancelResponse,
    DeliverResponse,
    DeliveryReportResponse,
    ReadReplyResponse,
    ReplaceResponse,
    Response,
    SubmitResponse,
)

RESPONSE_OPERATIONS: dict[type[Response], str] = {
    SubmitResponse: "SubmitRsp",
    CancelResponse: "CancelRsp",
    ReplaceResponse: "ReplaceRsp",
    DeliverResponse: "DeliverRsp",
    DeliveryReportResponse: "DeliveryReportRsp",
    ReadReplyResponse: "ReadReplyRsp",
}
