"""The sans-IO MM7 codec: pure functions between :mod:`mm7client.model` and bytes.

No network, no event loop: the client, the receiver and the mock MMSC all call these.

* :func:`encode` - any message to an :class:`EncodedMessage` (body + headers); requests are
  validated against the carrier profile first.
* :func:`decode` - any MM7 HTTP body (plain XML or multipart/related) to a message.
* :func:`summarize_request` - the few fields an MMSC answers a request from, without decoding
  the message (the mock MMSC's hot path).
* :class:`PreparedResponse` - a response encoded once, rendered per request with its ids.
"""

from __future__ import annotations

from mm7client.codec.messages import (
    EncodedMessage,
    PreparedResponse,
    RequestSummary,
    SplitBody,
    decode,
    decode_envelope,
    encode,
    new_transaction_id,
    split_body,
    summarize_request,
)
from mm7client.codec.mime import Limits
from mm7client.codec.validate import validate_submit

__all__ = [
    "EncodedMessage",
    "Limits",
    "PreparedResponse",
    "RequestSummary",
    "SplitBody",
    "decode",
    "decode_envelope",
    "encode",
    "new_transaction_id",
    "split_body",
    "summarize_request",
    "validate_submit",
]
