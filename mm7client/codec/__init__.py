"""The sans-IO MM7 codec: pure functions between :mod:`mm7client.model` and bytes.

No network, no event loop: the client, the receiver and the mock MMSC all call these.

* :func:`encode` - any message to an :class:`EncodedMessage` (body + headers); requests are
  validated against the carrier profile first. The writers live in :mod:`.writers` (one module
  per message family: ``writers/submit.py`` is the SubmitReq writer).
* :func:`decode` - any MM7 HTTP body (plain XML or multipart/related) to a message; the readers
  live in :mod:`.readers`.
* :func:`find_transaction_id` - the TransactionID of a body :func:`decode` refuses (best
  effort; its :class:`~mm7client.errors.ParseError` carries it as ``transaction_id``), so a
  fault can echo it.
* :func:`summarize_request` - the few fields an MMSC answers a request from, without decoding
  the message (the mock MMSC's hot path; :mod:`.summary`).
* :class:`PreparedResponse` - a response encoded once, rendered per request with its ids
  (:mod:`.prepared`).

Below them: :mod:`.soap` (hardened XML parsing, the envelope writer), :mod:`.mime` (multipart
building and splitting), :mod:`.smil` and :mod:`.validate` (the profile's rules).
"""

from __future__ import annotations

from mm7client.codec.encoded import EncodedMessage, new_transaction_id
from mm7client.codec.mime import Limits
from mm7client.codec.prepared import PreparedResponse
from mm7client.codec.readers import decode, decode_envelope, find_transaction_id
from mm7client.codec.readers.body import SplitBody, split_body
from mm7client.codec.summary import RequestSummary, summarize_request
from mm7client.codec.validate import validate_submit
from mm7client.codec.writers import encode

__all__ = [
    "EncodedMessage",
    "Limits",
    "PreparedResponse",
    "RequestSummary",
    "SplitBody",
    "decode",
    "decode_envelope",
    "encode",
    "find_transaction_id",
    "new_transaction_id",
    "split_body",
    "summarize_request",
    "validate_submit",
]
