"""Readers: :func:`decode` any MM7 body into a message of :mod:`mm7client.model`.

* :mod:`.body` - the SOAP envelope and content parts of an HTTP body;
* :mod:`.operations` - one reader per operation and for faults;
* :mod:`.fields` and :mod:`.values` - the structures and values they share.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from mm7client.codec.mime import DEFAULT_LIMITS, Limits, MimePart
from mm7client.codec.readers.body import split_body
from mm7client.codec.readers.fields import read_form
from mm7client.codec.readers.operations import DECODERS, decode_fault
from mm7client.codec.soap import child_text, children, index_children, local_name, parse_xml
from mm7client.errors import MM7Error, ParseError
from mm7client.model import MM7Message

log = logging.getLogger(__name__)


def decode_envelope(
    envelope: bytes,
    charset: str | None = None,
    parts: list[MimePart] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> MM7Message:
    """Decode a SOAP envelope (and the MIME parts that came with it) into a message."""
    operation, name, transaction_id = read_operation(envelope, charset, limits)
    return decode_operation(operation, name, transaction_id, parts or [], limits)


def decode_operation(
    operation: etree._Element,
    name: str,
    transaction_id: str | None,
    parts: list[MimePart],
    limits: Limits,
) -> MM7Message:
    common: dict[str, Any] = {"transaction_id": transaction_id, "mm7_version": None}
    if name == "Fault":
        return decode_fault(operation, common)
    version = common["mm7_version"] = child_text(operation, "MM7Version")
    common["form"] = read_form(operation, version)
    return DECODERS[name](operation, common, parts, limits)


def read_operation(
    envelope: bytes, charset: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[etree._Element, str, str | None]:
    """Parse a SOAP envelope and find its operation: ``(element, local name, TransactionID)``.

    The name is one this codec decodes (or ``Fault``); anything else raises
    :class:`ParseError` 4003. Shared by :func:`decode_envelope` and
    :func:`summarize_request`, so both refuse the same envelopes.
    """
    root = parse_xml(envelope, charset, limits)
    if local_name(root.tag) != "Envelope":
        raise ParseError(f"not a SOAP envelope: root element is {local_name(root.tag)!r}")
    top = index_children(root)
    body = top.get("Body")
    if body is None:
        raise ParseError("SOAP envelope without Body")
    operation = next(children(body), None)
    if operation is None:
        raise ParseError("SOAP Body is empty", status_code=4004)
    name = local_name(operation.tag)
    if name != "Fault" and name not in DECODERS:
        raise ParseError(f"unsupported MM7 operation {name!r}", status_code=4003)
    return operation, name, child_text(top.get("Header"), "TransactionID")


def decode(
    body: bytes,
    content_type: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    resolve_content: bool = True,
) -> MM7Message:
    """Decode an HTTP body carrying any MM7 message.

    Returns the request, response or :class:`~mm7client.model.SoapFault` it holds. Raises only
    :class:`~mm7client.errors.ParseError` (with the MM7 status a peer should answer).

    With ``resolve_content=False`` only the SOAP envelope is read: the message comes back with
    ``content=[]``, and the content parts' headers and bodies are left unread (the mock MMSC
    shows a message whose content is undecodable that way).
    """
    try:
        split = split_body(body, content_type, limits)
        parts = split.parts
        if resolve_content:
            for part in parts:
                part.body  # noqa: B018 - every part's transfer encoding is checked
        else:
            parts = []
        return decode_envelope(split.envelope, split.charset, parts, limits)
    except MM7Error:
        raise
    except UNEXPECTED as exc:
        raise unreadable(exc) from exc


# a last line of defence: hostile bytes must surface as the library's own error
UNEXPECTED = (ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError)


def unreadable(exc: Exception) -> ParseError:
    log.debug("unexpected decode failure", exc_info=True)
    return ParseError(f"unreadable MM7 body: {type(exc).__name__}: {exc}")
