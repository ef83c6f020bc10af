"""The sans-IO MM7 codec: pure functions between :mod:`mm7client.model` and bytes.

No network, no event loop: the client, the receiver and the mock MMSC all call these.

* :func:`encode` - any message to an :class:`EncodedMessage` (body + headers); requests are
  validated against the carrier profile first.
* :func:`decode` - any MM7 HTTP body (plain XML or multipart/related) to a message.
"""

from __future__ import annotations

from mm7client.codec.messages import (
    EncodedMessage,
    SplitBody,
    decode,
    decode_envelope,
    encode,
    new_transaction_id,
    split_body,
)
from mm7client.codec.mime import Limits
from mm7client.codec.validate import validate_submit

__all__ = [
    "EncodedMessage",
    "Limits",
    "SplitBody",
    "decode",
    "decode_envelope",
    "encode",
    "new_transaction_id",
    "split_body",
    "validate_submit",
]
