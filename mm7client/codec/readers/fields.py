"""Readers of the structures several operations share: addresses, recipients, Status,
SenderIdentification, the Content reference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lxml import etree

from mm7client.codec.mime import Limits, MimePart
from mm7client.codec.readers.body import resolve_content
from mm7client.codec.readers.values import parse_bool
from mm7client.codec.soap import (
    child_text,
    children,
    element_text,
    index_children,
    local_name,
    text_of,
)
from mm7client.errors import ParseError
from mm7client.model import Address, AddressKind, FormStyle, MessageForm, Status

_ADDRESS_KINDS = {kind.value: kind for kind in AddressKind}


def _address_of(item: etree._Element, kind: AddressKind) -> Address:
    display = item.get("displayOnly")
    return Address((item.text or "").strip(), kind, bool(display) and parse_bool(display) is True)


def _value_of(item: etree._Element, kind: AddressKind) -> str:
    return (item.text or "").strip()


_AddressT = TypeVar("_AddressT")


@dataclass(frozen=True, slots=True)
class AddressReading(Generic[_AddressT]):
    """What the address readers make of an address: from a Number/ShortCode/RFC2822Address
    element (``typed``) or from plain text (``plain``, never empty)."""

    typed: Callable[[etree._Element, AddressKind], _AddressT]
    plain: Callable[[str], _AddressT]


ADDRESSES: AddressReading[Address] = AddressReading(_address_of, Address)
# the summary's: the same addresses' values
VALUES: AddressReading[str] = AddressReading(_value_of, str)


def read_address(element: etree._Element | None) -> Address | None:
    """An address element: a wrapper holding Number/ShortCode/RFC2822Address, or plain text."""
    return read_address_as(element, ADDRESSES)


def read_recipients(element: etree._Element | None) -> dict[str, list[Address]]:
    """Recipients' To, Cc and Bcc addresses."""
    return read_recipients_as(element, ADDRESSES)


def read_address_as(
    element: etree._Element | None, reading: AddressReading[_AddressT]
) -> _AddressT | None:
    if element is None:
        return None
    kinds = _ADDRESS_KINDS
    for item in children(element):
        kind = kinds.get(local_name(item.tag))
        if kind is not None:
            return reading.typed(item, kind)
    kind = kinds.get(local_name(element.tag))
    if kind is not None:
        return reading.typed(element, kind)
    text = (element.text or "").strip()
    return reading.plain(text) if text else None


def read_recipients_as(
    element: etree._Element | None, reading: AddressReading[_AddressT]
) -> dict[str, list[_AddressT]]:
    result: dict[str, list[_AddressT]] = {"To": [], "Cc": [], "Bcc": []}
    if element is None:
        return result
    kinds = _ADDRESS_KINDS
    typed = reading.typed
    for group in children(element):
        name = local_name(group.tag)
        if name not in result:
            # LGT reports sometimes put the address directly under Recipients
            if name in kinds:
                address = read_address_as(group, reading)
                if address is not None:
                    result["To"].append(address)
            continue
        for item in children(group):
            kind = kinds.get(local_name(item.tag))
            if kind is not None:
                result[name].append(typed(item, kind))
    return result


def read_status(op: etree._Element, fields: dict[str, etree._Element] | None = None) -> Status:
    """The Status of a response; ``fields`` is the operation's child index when known.

    Accepts the standard nested form and carriers' flat, out-of-order form (StatusCode and
    StatusText directly under the operation).
    """
    if fields is None:
        fields = index_children(op)
    status = fields.get("Status")
    inner = index_children(status) if status is not None else fields
    code = text_of(inner.get("StatusCode"))
    if code is None and status is not None:
        code = text_of(fields.get("StatusCode"))
    if code is None:
        raise ParseError(f"{local_name(op.tag)} without StatusCode", status_code=4004)
    text = text_of(inner.get("StatusText"))
    if text is None and status is not None:
        text = text_of(fields.get("StatusText"))
    details = element_text(inner.get("Details"))
    return Status(code, text, details or None)


def require(value: str | None, name: str, operation: str) -> str:
    if not value:
        raise ParseError(f"{operation} without {name}", status_code=4004)
    return value


# an element's children by local name (soap.index_children)
ChildIndex = dict[str, etree._Element]


def submit_recipients(
    fields: ChildIndex, reading: AddressReading[_AddressT]
) -> dict[str, list[_AddressT]]:
    """A SubmitReq's To/Cc/Bcc from its child index; none at all is refused (4004)."""
    recipients = read_recipients_as(fields.get("Recipients"), reading)
    if not any(recipients.values()):
        raise ParseError("SubmitReq without recipients", status_code=4004)
    return recipients


def submit_password(sid: ChildIndex, fields: ChildIndex) -> str | None:
    """AuthPassword from SenderIdentification, else from the SubmitReq itself (carriers differ)."""
    return text_of(sid.get("AuthPassword")) or text_of(fields.get("AuthPassword"))


def submit_callback(sid: ChildIndex, fields: ChildIndex) -> str | None:
    """CallBack from SenderIdentification, else from the SubmitReq itself."""
    return text_of(sid.get("CallBack")) or text_of(fields.get("CallBack"))


def sender_identification_index(
    op: etree._Element, fields: dict[str, etree._Element] | None = None
) -> dict[str, etree._Element]:
    """The children of SenderIdentification by local name (the operation's own children when
    a carrier writes them flat); ``fields`` is the operation's child index when known."""
    if fields is None:
        fields = index_children(op)
    sid = fields.get("SenderIdentification")
    return index_children(sid) if sid is not None else fields


def sender_identification_fields(
    op: etree._Element, source: dict[str, etree._Element] | None = None
) -> dict[str, Any]:
    """VASPID, VASID and SenderAddress; ``source`` is the SenderIdentification index if known."""
    if source is None:
        source = sender_identification_index(op)
    return {
        "vasp_id": text_of(source.get("VASPID")),
        "vas_id": text_of(source.get("VASID")),
        "sender_address": read_address(source.get("SenderAddress")),
    }


def content_fields(
    content: etree._Element | None, parts: list[MimePart], limits: Limits
) -> dict[str, Any]:
    """``content`` and ``allow_adaptations`` of a message with a Content element."""
    allow = content.get("allowAdaptations") if content is not None else None
    return {
        "content": resolve_content(content, parts, limits),
        "allow_adaptations": parse_bool(allow),
    }


# (operation tag, children qualified, MM7Version) -> the form, and (operation tag, its prefix,
# MM7Version) -> the form of qualified children (only they depend on the prefix): peers send
# the same few forms over and over, so the form of a message costs a dict lookup
_FORMS: dict[tuple[str, bool, str | None], MessageForm] = {}
_QUALIFIED_FORMS: dict[tuple[str, str | None, str | None], MessageForm] = {}
_FORMS_MAX = 256


def read_form(
    element: etree._Element, version: str | None, first_tag: object = None
) -> MessageForm:
    """The :class:`MessageForm` an MM7 element (an operation, a fault's RSErrorRsp) was written
    in: its namespace, ``version`` and style - children unqualified (``"lgt"``), else the
    element's namespace as default namespace (``"default-ns"``) or prefixed (``"prefixed"``).

    ``first_tag``: the tag of the element's first child when the caller has read it already
    (else it is read here).
    """
    tag = element.tag
    if first_tag is None and len(element):
        # (the parser drops comments and processing instructions: a first child is an element)
        first_tag = element[0].tag
    qualified = first_tag[:1] == "{" if first_tag.__class__ is str else True
    form = _FORMS.get((tag, qualified, version))
    if form is not None:
        return form
    namespace = tag[1 : tag.index("}")] if tag[:1] == "{" else ""
    if not namespace or not qualified:
        form = MessageForm(namespace, version or "", "lgt")
        if len(_FORMS) < _FORMS_MAX:
            _FORMS[(tag, qualified, version)] = form
        return form
    prefix = element.prefix
    form = _QUALIFIED_FORMS.get((tag, prefix, version))
    if form is None:
        style: FormStyle = "default-ns" if prefix is None else "prefixed"
        form = MessageForm(namespace, version or "", style)
        if len(_QUALIFIED_FORMS) < _FORMS_MAX:
            _QUALIFIED_FORMS[(tag, prefix, version)] = form
    return form


def read_version_and_form(element: etree._Element) -> tuple[str | None, MessageForm]:
    """An operation's MM7Version (stripped text, ``None`` when absent) and its form
    (:func:`read_form`), reading its first child once: MM7Version comes first in every
    operation (when it does not, it is looked for among the other children)."""
    first_tag: object = None
    version: str | None = None
    for first in element:
        first_tag = first.tag
        if first_tag.__class__ is str and (
            first_tag == "MM7Version" or first_tag.endswith("}MM7Version")
        ):
            text = first.text
            version = text.strip() if text else ""
        break
    if version is None and first_tag is not None:
        version = child_text(element, "MM7Version")
    return version, read_form(element, version, first_tag)
