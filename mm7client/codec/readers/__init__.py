"""Readers: :func:`decode` any MM7 body into a message of :mod:`mm7client.model`.

* :mod:`.body` - the SOAP envelope and content parts of an HTTP body;
* :mod:`.operations` - one reader per operation and for faults;
* :mod:`.fields` and :mod:`.values` - the structures and values they share.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from lxml import etree

from mm7client.codec.mime import DEFAULT_LIMITS, Limits, MimePart
from mm7client.codec.readers.body import split_body
from mm7client.codec.readers.fields import read_version_and_form
from mm7client.codec.readers.operations import DECODERS, decode_fault
from mm7client.codec.soap import (
    child_text,
    children,
    index_children,
    local_name,
    parse_xml,
    xml_can_carry,
)
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
    try:
        if name == "Fault":
            return decode_fault(operation, common)
        common["mm7_version"], common["form"] = read_version_and_form(operation)
        return DECODERS[name](operation, common, parts, limits)
    except ParseError as exc:
        note_transaction_id(exc, transaction_id)
        raise


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
    tid = child_text(top.get("Header"), "TransactionID")
    body = top.get("Body")
    if body is None:
        raise ParseError("SOAP envelope without Body", transaction_id=tid)
    operation = next(children(body), None)
    if operation is None:
        raise ParseError("SOAP Body is empty", status_code=4004, transaction_id=tid)
    name = local_name(operation.tag)
    if name != "Fault" and name not in DECODERS:
        raise ParseError(
            f"unsupported MM7 operation {name!r}", status_code=4003, transaction_id=tid
        )
    return operation, name, tid


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
    except Exception as exc:
        failure = parse_failure(exc, body)
        if failure is exc:
            raise
        raise failure from exc


# a last line of defence: hostile bytes must surface as the library's own error
UNEXPECTED = (ValueError, TypeError, LookupError, AttributeError, RecursionError, OverflowError)


def parse_failure(exc: Exception, body: bytes) -> Exception:
    """What to raise for ``exc``, met reading ``body`` (:func:`decode` and
    :func:`~mm7client.codec.summarize_request` both refuse with it): a :class:`ParseError`
    naming the body's TransactionID when one is found, an unexpected failure as the
    ParseError of :func:`unreadable`, any other error unchanged. Called from an ``except``
    clause, so reading costs nothing more when nothing fails::

        except Exception as exc:
            failure = parse_failure(exc, body)
            if failure is exc:
                raise
            raise failure from exc
    """
    if isinstance(exc, ParseError):
        if exc.transaction_id is None:  # best effort: the header may be whole in the body
            exc.transaction_id = find_transaction_id(body)
        return exc
    if isinstance(exc, UNEXPECTED) and not isinstance(exc, MM7Error):
        return unreadable(exc, body)
    return exc


def unreadable(exc: Exception, body: bytes) -> ParseError:
    """The ParseError for an unexpected failure reading ``body``."""
    log.debug("unexpected decode failure", exc_info=True)
    return ParseError(
        f"unreadable MM7 body: {type(exc).__name__}: {exc}",
        transaction_id=find_transaction_id(body),
    )


def note_transaction_id(exc: ParseError, transaction_id: str | None) -> None:
    """Tell ``exc`` the refused message's ``transaction_id`` unless it knows one already."""
    if exc.transaction_id is None:
        exc.transaction_id = transaction_id or None


# <TransactionID ...>text</TransactionID> under any prefix; looked for in the body's first bytes
_TRANSACTION_ID = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?TransactionID(?:\s[^>]*)?>([^<]{1,1024})"
    rb"</(?:[A-Za-z_][\w.-]*:)?TransactionID\s*>"
)
_TRANSACTION_ID_WINDOW = 64 * 1024


def find_transaction_id(body: bytes) -> str | None:
    """The TransactionID written in an MM7 HTTP body, found textually (best effort).

    For a body :func:`decode` refuses (truncated, broken MIME or XML after the header, too
    large...): when the SOAP header's TransactionID element is whole within the body's first
    64 KB, its text (entities resolved); else ``None`` - also for text a fault could not carry
    and for charsets that are not ASCII-compatible (UTF-16). Never raises. The errors of
    :func:`decode` and :func:`~mm7client.codec.summarize_request` carry it already as
    :attr:`ParseError.transaction_id <mm7client.errors.ParseError.transaction_id>`.
    """
    match = _TRANSACTION_ID.search(body, 0, _TRANSACTION_ID_WINDOW)
    if match is None:
        return None
    raw = match.group(1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp949", "replace")
    try:
        text = _XML_REFERENCE.sub(_resolve_reference, text).strip()
    except (KeyError, ValueError, OverflowError):  # an unknown entity, a bad character number
        return None
    if not text or not xml_can_carry(text):
        return None
    return text


_XML_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _resolve_reference(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[:2] == "#x":
        return chr(int(name[2:], 16))
    if name[:1] == "#":
        return chr(int(name[1:]))
    return _XML_ENTITIES[name]
