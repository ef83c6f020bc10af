"""Schema oracle for tests: checks MM7 SOAP envelopes against our WSDL/XSDs in ``wsdl/``.

Two independent checkers look at every message:

* zeep (``strict=True``) parses the operation element and the TransactionID header with the
  WSDL's types. It rejects unknown and misordered children, but not missing required elements,
  facet violations (KisaOrigCode patterns) or bad boolean spellings.
* ``lxml.etree.XMLSchema`` validates the same elements against the same XSD files; this catches
  everything XSD can express (order, occurrence, patterns, enumerations, qualification).

Nothing is ever fetched from the network: schemas are local files, zeep gets a transport that
refuses http(s) URLs and lxml parsers run with ``no_network=True``.

Kinds: ``"3gpp"`` (REL-6-MM7-1-4, standard qualified form) and ``"lgt"`` (REL-5-MM7-1-2 in
LG U+'s form: unqualified children, ``True``/``False``, CallBack and KisaOrigCode).

``validate_envelope(..., style=...)`` checks a message written in a form whose qualification
differs from the kind's schema (a REL-6 message with unqualified children, an LGT message in the
default-namespace form): every MM7 element must be written consistently in that style, then
its children are moved to the schema's qualification and the content is validated.

Usage::

    from schema_oracle import validate_envelope
    validate_envelope("lgt", encoded_envelope_bytes)  # AssertionError if invalid
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import zeep
from lxml import etree
from zeep.transports import Transport

__all__ = [
    "FAULT_DETAIL_ELEMENTS",
    "KINDS",
    "MM7_NAMESPACES",
    "OPERATIONS",
    "SOAP_ENV_NS",
    "STYLE_QUALIFIED",
    "WSDL_DIR",
    "NoNetworkTransport",
    "envelope_schema",
    "kind_of_namespace",
    "load_wsdl",
    "load_xsd",
    "validate_element",
    "validate_envelope",
    "xsd_errors",
    "zeep_parse",
]

#: The directory holding our WSDLs and XSDs.
WSDL_DIR = Path(__file__).resolve().parent.parent / "wsdl"

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

_MM7_PREFIX = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/"

#: The MM7 namespace of each kind.
MM7_NAMESPACES: dict[str, str] = {
    "3gpp": _MM7_PREFIX + "REL-6-MM7-1-4",
    "lgt": _MM7_PREFIX + "REL-5-MM7-1-2",
}

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

#: The supported kinds.
KINDS = tuple(MM7_NAMESPACES)

_WSDL_FILES = {"3gpp": "mm7-rel6-1-4.wsdl", "lgt": "mm7-lgt-rel5-1-2.wsdl"}
_XSD_FILES = {"3gpp": "mm7-rel6-1-4.xsd", "lgt": "mm7-lgt-rel5-1-2.xsd"}

#: Operation elements that may appear as the SOAP Body's child.
OPERATIONS = frozenset(
    {
        "SubmitReq",
        "SubmitRsp",
        "CancelReq",
        "CancelRsp",
        "ReplaceReq",
        "ReplaceRsp",
        "DeliverReq",
        "DeliverRsp",
        "DeliveryReportReq",
        "DeliveryReportRsp",
        "ReadReplyReq",
        "ReadReplyRsp",
    }
)

#: Elements that may appear inside a SOAP Fault's detail.
FAULT_DETAIL_ELEMENTS = frozenset({"RSErrorRsp", "VASPErrorRsp"})


class NoNetworkTransport(Transport):  # type: ignore[misc]
    """A zeep transport that loads local files only and refuses every http(s) URL."""

    def load(self, url: str) -> bytes:
        self._refuse(url)
        return super().load(url)  # type: ignore[no-any-return]

    def _load_remote_data(self, url: str) -> bytes:
        raise RuntimeError(f"schema oracle: network access refused ({url})")

    @staticmethod
    def _refuse(url: str) -> None:
        if url.lower().startswith(("http:", "https:", "ftp:")):
            raise RuntimeError(f"schema oracle: network access refused ({url})")


def _check_kind(kind: str) -> str:
    if kind not in MM7_NAMESPACES:
        raise ValueError(f"kind={kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def kind_of_namespace(namespace: str) -> str:
    """The kind (``"3gpp"``/``"lgt"``) whose MM7 namespace is ``namespace``."""
    for kind, ns in MM7_NAMESPACES.items():
        if ns == namespace:
            return kind
    raise ValueError(f"namespace {namespace!r} is not covered by the schema oracle")


@functools.cache
def load_wsdl(kind: str) -> zeep.Client:
    """The zeep client for ``kind``'s WSDL, loaded once from local files (strict settings)."""
    path = WSDL_DIR / _WSDL_FILES[_check_kind(kind)]
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True)
    return zeep.Client(str(path), transport=NoNetworkTransport(), settings=settings)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)


@functools.cache
def load_xsd(kind: str) -> etree.XMLSchema:
    """The lxml schema of ``kind``'s MM7 XSD (it imports the SOAP envelope XSD)."""
    path = WSDL_DIR / _XSD_FILES[_check_kind(kind)]
    return etree.XMLSchema(etree.parse(str(path), _parser()))


@functools.cache
def envelope_schema() -> etree.XMLSchema:
    """The lxml schema of the SOAP 1.1 envelope (Envelope, Header, Body, Fault)."""
    return etree.XMLSchema(etree.parse(str(WSDL_DIR / "soap-envelope.xsd"), _parser()))


def _as_element(xml: bytes | str | etree._Element) -> etree._Element:
    if isinstance(xml, etree._Element):
        return xml
    if isinstance(xml, str):
        # lxml refuses str input that carries an encoding declaration: drop the declaration.
        xml = _XML_DECLARATION.sub("", xml, count=1)
    try:
        return etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"not well-formed XML: {exc}") from exc


def _standalone(element: etree._Element) -> etree._Element:
    """A copy of ``element`` as the root of its own document (namespaces kept)."""
    return etree.fromstring(etree.tostring(element), _parser())


def _format_log(log: Any) -> list[str]:
    return [f"line {entry.line}: {entry.message}" for entry in log]


def xsd_errors(kind: str, element: bytes | str | etree._Element) -> list[str]:
    """lxml XMLSchema errors for one MM7 element (operation, fault detail or TransactionID)."""
    schema = load_xsd(kind)
    root = _standalone(_as_element(element))
    if schema.validate(root):
        return []
    return _format_log(schema.error_log)


def zeep_parse(kind: str, element: bytes | str | etree._Element) -> Any:
    """Parse one MM7 element with zeep (strict); returns zeep's object, raises on errors."""
    el = _as_element(element)
    client = load_wsdl(kind)
    xsd_element = client.get_element(el.tag)
    return xsd_element.parse(el, client.wsdl.types)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _ns(tag: str) -> str | None:
    return etree.QName(tag).namespace


def _extra_errors(kind: str, el: etree._Element) -> list[str]:
    """Rules XSD 1.0 cannot express in a zeep-friendly way."""
    if kind == "lgt" and _local(el.tag) == "DeliveryReportReq":
        # The LGT schema lets Sender come before MessageID or after the recipient (both orders
        # are seen); exactly one of the two must be present.
        senders = el.findall("Sender")
        if len(senders) != 1:
            return [f"DeliveryReportReq needs exactly one Sender, found {len(senders)}"]
    return []


def validate_element(kind: str, element: bytes | str | etree._Element, *, where: str = "") -> None:
    """Validate one MM7 element with both lxml and zeep; AssertionError when either fails."""
    el = _as_element(element)
    label = f"{where or _local(el.tag)} ({kind})"
    expected_ns = MM7_NAMESPACES[_check_kind(kind)]
    if _ns(el.tag) != expected_ns:
        raise AssertionError(
            f"{label}: element {el.tag!r} is not in the MM7 namespace {expected_ns!r}"
        )
    errors = xsd_errors(kind, el) + _extra_errors(kind, el)
    if errors:
        raise AssertionError(f"{label}: XSD validation failed:\n  " + "\n  ".join(errors))
    try:
        zeep_parse(kind, el)
    except Exception as exc:  # zeep raises several exception types
        raise AssertionError(f"{label}: zeep rejected it: {type(exc).__name__}: {exc}") from exc


#: The message form styles (mm7client.model.MessageForm.style) and whether children are qualified.
STYLE_QUALIFIED = {"default-ns": True, "prefixed": True, "lgt": False}
_KIND_QUALIFIED = {"3gpp": True, "lgt": False}


def _check_style(element: etree._Element, namespace: str, style: str, label: str) -> None:
    """``element`` (an operation or fault detail) is written in ``style``: its prefix (none for
    the default-namespace form) and the namespace of every descendant."""
    default_ns = element.prefix is None
    if default_ns != (style == "default-ns"):
        raise AssertionError(f"{label}: prefix {element.prefix!r} does not match style {style!r}")
    wanted = namespace if STYLE_QUALIFIED[style] else None
    for item in element.iterdescendants(etree.Element):
        if _ns(item.tag) != wanted:
            raise AssertionError(f"{label}: {item.tag!r} is not in {wanted!r} ({style} form)")


def _requalified(element: etree._Element, namespace: str, qualified: bool) -> etree._Element:
    """A copy of ``element`` (declaring ``namespace`` with a prefix) whose descendants are in
    ``namespace`` or in none."""

    def copy(item: etree._Element, tag: str) -> etree._Element:
        new = etree.Element(tag, dict(item.attrib), nsmap={"mm7": namespace})
        new.text, new.tail = item.text, item.tail
        for sub in item.iterchildren(etree.Element):
            local = _local(sub.tag)
            new.append(copy(sub, f"{{{namespace}}}{local}" if qualified else local))
        return new

    return copy(element, element.tag)


def _in_schema_form(kind: str, root: etree._Element, style: str) -> etree._Element:
    """A copy of envelope ``root`` whose MM7 elements are qualified as ``kind``'s schema wants,
    after checking that they are written consistently in ``style``."""
    ns = MM7_NAMESPACES[kind]
    root = _standalone(root)
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    if body is None:
        return root
    holders = [c for c in body if isinstance(c.tag, str) and _ns(c.tag) == ns]
    holders += [c for c in body.iterfind(f"{{{SOAP_ENV_NS}}}Fault/detail/*")]
    for holder in holders:
        _check_style(holder, ns, style, _local(holder.tag))
        fixed = _requalified(holder, ns, _KIND_QUALIFIED[kind])
        holder.getparent().replace(holder, fixed)
    return root


def validate_envelope(
    kind: str,
    envelope_xml: bytes | str | etree._Element,
    *,
    require_transaction_id: bool = True,
    style: str | None = None,
) -> None:
    """Validate a whole MM7 SOAP envelope of ``kind``; AssertionError with the reasons if not.

    Checks the SOAP 1.1 envelope structure, the ``TransactionID`` header (exactly one, required
    unless ``require_transaction_id=False``), and the Body: either exactly one MM7 operation
    element, or a SOAP Fault whose ``detail`` holds an RSErrorRsp or VASPErrorRsp. Each MM7
    element is checked by lxml XMLSchema and by zeep. With ``style`` (a MessageForm style), the
    MM7 elements must be written in that style and are validated in the schema's qualification.
    """
    ns = MM7_NAMESPACES[_check_kind(kind)]
    root = _as_element(envelope_xml)
    if style is not None:
        root = _in_schema_form(kind, root, style)
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise AssertionError(f"root element is {root.tag!r}, expected a SOAP 1.1 Envelope")

    env_schema = envelope_schema()
    if not env_schema.validate(_standalone(root)):
        raise AssertionError(
            "SOAP envelope structure invalid:\n  " + "\n  ".join(_format_log(env_schema.error_log))
        )

    header = root.find(f"{{{SOAP_ENV_NS}}}Header")
    transaction_ids = [] if header is None else header.findall(f"{{{ns}}}TransactionID")
    if header is not None:
        strays = [
            child.tag
            for child in header
            if isinstance(child.tag, str)
            and _local(child.tag) == "TransactionID"
            and _ns(child.tag) != ns
        ]
        if strays:
            raise AssertionError(f"TransactionID in the wrong namespace: {strays} (expected {ns})")
    if len(transaction_ids) > 1:
        raise AssertionError(f"{len(transaction_ids)} TransactionID headers, expected one")
    if not transaction_ids and require_transaction_id:
        raise AssertionError(f"missing SOAP header {{{ns}}}TransactionID")
    for tid in transaction_ids:
        validate_element(kind, tid, where="Header/TransactionID")

    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    assert body is not None  # the envelope schema requires it
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise AssertionError(
            f"SOAP Body has {len(children)} child elements, expected exactly one: "
            f"{[child.tag for child in children]}"
        )
    operation = children[0]

    if operation.tag == f"{{{SOAP_ENV_NS}}}Fault":
        detail = operation.find("detail")
        details = [] if detail is None else [c for c in detail if isinstance(c.tag, str)]
        mm7_details = [c for c in details if _local(c.tag) in FAULT_DETAIL_ELEMENTS]
        if len(mm7_details) != 1:
            raise AssertionError(
                "SOAP Fault detail must hold exactly one RSErrorRsp or VASPErrorRsp, found "
                f"{[c.tag for c in details]}"
            )
        validate_element(kind, mm7_details[0], where=f"Fault/detail/{_local(mm7_details[0].tag)}")
        return

    if _ns(operation.tag) != ns:
        raise AssertionError(
            f"Body element {operation.tag!r} is not in the {kind} MM7 namespace {ns!r}"
        )
    if _local(operation.tag) not in OPERATIONS:
        raise AssertionError(f"Body element {operation.tag!r} is not an MM7 operation")
    validate_element(kind, operation, where=f"Body/{_local(operation.tag)}")
