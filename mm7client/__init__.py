"""mm7client: a VASP-side MM7 (3GPP TS 23.140) toolkit for Korean messaging platforms.

The protocol core is sans-IO: :mod:`mm7client.model` (dataclasses), :mod:`mm7client.codec`
(bytes <-> model), :mod:`mm7client.profiles` (LG U+ and 3GPP) and :mod:`mm7client.codes`
(normalized results from the carrier's code tables). Importing them loads no aiohttp; the
client (:class:`MM7Client`, :class:`SyncMM7Client`, :class:`SubmitResult`) is imported on first
use of those names, so ``import mm7client.codec`` stays free of the HTTP stack.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from mm7client.codec import EncodedMessage, Limits, decode, encode
from mm7client.errors import BodyTooLargeError, MM7Error, ParseError, ValidationError
from mm7client.model import (
    Address,
    AddressKind,
    CancelRequest,
    CancelResponse,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MM7Message,
    Part,
    ReadReplyRequest,
    ReadReplyResponse,
    ReplaceRequest,
    ReplaceResponse,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile, get_profile

if TYPE_CHECKING:
    from mm7client.client import MM7Client, SubmitResult, SyncMM7Client

__version__ = "0.1.0"

#: Public names whose modules need the HTTP stack: imported when first asked for.
_LAZY = {
    "MM7Client": "mm7client.client",
    "SubmitResult": "mm7client.client",
    "SyncMM7Client": "mm7client.client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mm7client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# A library never configures logging; without this, Python's last-resort handler would print
# the client's warnings (pauses, retries) to stderr of applications that set up no logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "LGT",
    "THREEGPP",
    "Address",
    "AddressKind",
    "BodyTooLargeError",
    "CancelRequest",
    "CancelResponse",
    "CarrierProfile",
    "DeliverRequest",
    "DeliverResponse",
    "DeliveryReportRequest",
    "DeliveryReportResponse",
    "EncodedMessage",
    "Limits",
    "MM7Client",
    "MM7Error",
    "MM7Message",
    "ParseError",
    "Part",
    "ReadReplyRequest",
    "ReadReplyResponse",
    "ReplaceRequest",
    "ReplaceResponse",
    "SoapFault",
    "Status",
    "SubmitRequest",
    "SubmitResponse",
    "SubmitResult",
    "SyncMM7Client",
    "ValidationError",
    "decode",
    "encode",
    "get_profile",
]
