"""SOAP 1.1 for MM7: hardened XML parsing, namespace-blind element lookup, envelope writing.

Parsing never expands entities, never loads a DTD and never touches the network; any document
with a DOCTYPE is refused outright. Lookup goes by local name, so qualified and unqualified
children, any MM7 namespace and any SOAP prefix read the same. Writing is string joining with
escaping: the per-message hot path does not build trees.
"""

from __future__ import annotations

import codecs
import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from mm7client.codec.mime import DEFAULT_LIMITS, Limits
from mm7client.errors import BodyTooLargeError, ParseError, ValidationError

if TYPE_CHECKING:
    from mm7client.model import MessageForm
    from mm7client.profiles import CarrierProfile

__all__ = [
    "SOAP_ENV_NS",
    "XmlWriter",
    "child",
    "child_text",
    "children",
    "hardened_parser",
    "index_children",
    "local_name",
    "parse_xml",
    "python_codec",
    "text_of",
    "xml_escape",
]

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# Charset labels seen on MM7 links, mapped to the Python codec that reads them. EUC-KR labels map
# to cp949, its superset, so text from peers that really send cp949 still decodes.
_CHARSET_ALIASES = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "korean": "cp949",
    "cp949": "cp949",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "uhc": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}


def python_codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or ``None`` when the label is unknown."""
    if not label:
        return None
    return _python_codec(label)


@functools.lru_cache(maxsize=128)
def _python_codec(label: str) -> str | None:
    key = label.strip().strip('"').lower()
    alias = _CHARSET_ALIASES.get(key)
    if alias is not None:
        return alias
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)

_local = threading.local()

# Codecs in which "<!DOCTYPE" has the same bytes as in ASCII, so the byte scan sees it.
_ASCII_COMPATIBLE = frozenset({"utf-8", "cp949", "euc_kr", "gb18030", "latin-1", "iso8859-1"})
_MARKUP_START = frozenset({b"<", b" ", b"\t", b"\r", b"\n"})


def hardened_parser(encoding: str | None = None) -> etree.XMLParser:
    """An lxml parser that expands no entity, loads no DTD and never touches the network.

    Not thread-safe: keep one per thread. :func:`parse_xml` adds the DOCTYPE refusal, size and
    depth limits and charset handling on top; prefer it.
    """
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parser(encoding: str | None = None) -> etree.XMLParser:
    """This thread's hardened parser; with ``encoding``, one that reads that encoding whatever
    the XML declaration says."""
    parsers: dict[str | None, etree.XMLParser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    parser = parsers.get(encoding)
    if parser is None:
        parser = parsers[encoding] = hardened_parser(encoding)
    return parser


def parse_xml(
    data: bytes, charset: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> etree._Element:
    """Parse an XML document safely and return its root element.

    ``charset`` (from the MIME Content-Type) wins over the XML declaration; documents in any
    charset Python knows are transcoded before parsing. Raises :class:`ParseError` for anything
    that is not well-formed XML, has a DOCTYPE, or exceeds ``limits.max_xml_bytes``.
    """
    if len(data) > limits.max_xml_bytes:
        raise BodyTooLargeError("XML document", len(data), limits.max_xml_bytes)
    if b"<!" in data and _DOCTYPE.search(data):
        raise ParseError("XML with a DOCTYPE or ENTITY declaration is refused")
    end = data.find(b"?>", 0, _DECL_WINDOW) if data.startswith(b"<?xml") else -1
    # the usual case, a declaration at byte 0, is looked up by its exact bytes (cached)
    head = data[: end + 2] if end != -1 else data[:_DECL_WINDOW]
    decl_length, declared = _declaration(head) if end != -1 else _read_declaration(head)
    label = charset or declared
    codec = python_codec(label) if label else "utf-8"
    if label and codec is None:
        # unknown label: try UTF-8, then Korean
        codec = "utf-8"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            codec = "cp949"
    try:
        if codec in _ASCII_COMPATIBLE and data.isascii():
            # the same bytes in every ASCII-compatible charset: no conversion at all
            root = etree.fromstring(data, _parser("UTF-8"))
        elif codec == "utf-8" and (declared is None or python_codec(declared) == "utf-8"):
            try:
                root = etree.fromstring(data, _parser())
            except etree.XMLSyntaxError:
                if label is not None or _is_utf8(data):
                    raise
                # no charset anywhere and not UTF-8: Korean peers mean EUC-KR
                korean = _encoding_parser("cp949")
                if korean is not None:
                    root = etree.fromstring(data, korean)
                else:
                    root = _parse_text(data.decode("cp949"), decl_length)
        else:
            parser = _encoding_parser(codec or "utf-8")
            if parser is not None:
                root = etree.fromstring(data, parser)
            else:
                root = _parse_text(data.decode(codec or "utf-8"), decl_length)
    except UnicodeDecodeError as exc:
        raise ParseError(f"XML is not valid {codec}: {exc}") from exc
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"malformed XML: {exc}") from exc
    if root is None:
        raise ParseError("empty XML document")
    # A DOCTYPE hidden from the byte scan (UTF-16, UTF-32, ...) is refused here; the parser
    # neither loaded it nor expanded its entities. ASCII-compatible documents that start with
    # markup were covered by the byte scan already (this check costs a tenth of a parse).
    ascii_markup = codec in _ASCII_COMPATIBLE and data[:1] in _MARKUP_START
    if not ascii_markup and getattr(root.getroottree().docinfo, "doctype", None):
        raise ParseError("XML with a DOCTYPE or ENTITY declaration is refused")
    # every ancestor of the deepest element has an end tag: "</" bounds the depth from above
    # (UTF-16/32 documents, where markup has NUL bytes, are always walked)
    if b"\x00" in data or data.count(b"</") + 1 > limits.max_xml_depth:
        _check_depth(root, limits.max_xml_depth)
    return root


# Python codec -> the name libxml2 (iconv) knows; parsing bytes there skips a Python decode and
# a second pass over a str. Each is probed once; an encoding the build lacks falls back to Python.
_LIBXML_ENCODINGS = {"cp949": "CP949", "euc_kr": "EUC-KR", "gb18030": "GB18030"}
_PROBE = '<?xml version="1.0" encoding="euc-kr"?><a>\uac00\ud55c</a>'


def _encoding_parser(codec: str) -> etree.XMLParser | None:
    name = _LIBXML_ENCODINGS.get(codec)
    if name is None:
        return None
    parsers: dict[str, etree.XMLParser | None] | None = getattr(_local, "encoding_parsers", None)
    if parsers is None:
        parsers = {}
        _local.encoding_parsers = parsers
    if name in parsers:
        return parsers[name]
    parser: etree.XMLParser | None = hardened_parser(name)
    try:
        probe = etree.fromstring(_PROBE.encode(codec), parser)
        if probe.text != "\uac00\ud55c":
            parser = None
    except (etree.XMLSyntaxError, LookupError, ValueError):
        parser = None
    parsers[name] = parser
    return parser


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# The XML declaration is looked for in the document's first bytes only.
_DECL_WINDOW = 256


def _read_declaration(head: bytes) -> tuple[int, str | None]:
    """(length of the XML declaration, its encoding) for a document starting with ``head``."""
    decl = _XML_DECL.match(head)
    if not decl:
        return 0, None
    found = _XML_DECL_ENCODING.search(decl.group(0))
    return len(decl.group(0)), found.group(1).decode("ascii") if found else None


# Peers send the same declaration on every message.
_declaration = functools.lru_cache(maxsize=64)(_read_declaration)


def _parse_text(text: str, decl_length: int) -> etree._Element:
    # the declaration is ASCII, so its byte length is its length in characters
    if decl_length:
        text = text[decl_length:]
    text = text.lstrip("\ufeff")
    if text.startswith("<?xml"):  # not seen in the bytes: UTF-16 or UTF-32
        text = text[text.find("?>") + 2 :] if "?>" in text else text
    return etree.fromstring(text, _parser())


def _check_depth(root: etree._Element, limit: int) -> None:
    """Refuse elements nested deeper than ``limit`` (an iterative walk: no recursion)."""
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limit:
            raise ParseError(f"XML nested deeper than {limit} levels")
        stack.extend((item, depth + 1) for item in element)


def local_name(tag: object) -> str:
    """``{ns}Name`` / ``Name`` -> ``Name``; comments and PIs -> ``""``."""
    if not isinstance(tag, str):
        return ""
    index = tag.rfind("}")
    return tag[index + 1 :] if index != -1 else tag


def children(element: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    """Child elements, optionally only those with local name ``name``, in document order."""
    if name is None:
        return element.iterchildren(etree.Element)
    return element.iterchildren("{*}" + name)


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element with local name ``name`` (any namespace or none), or ``None``."""
    if element is None:
        return None
    # iterchildren with a tag filter runs in C; find() goes through ElementPath and is slower
    return next(element.iterchildren("{*}" + name), None)


def child_text(element: etree._Element | None, name: str) -> str | None:
    """The stripped text of the first child named ``name`` (``None`` when absent)."""
    if element is None:
        return None
    found: etree._Element | None = None
    for first in element:  # the wanted child usually comes first (TransactionID, MM7Version)
        tag = first.tag
        if tag.__class__ is str and (tag == name or tag.endswith("}" + name)):
            found = first
        break
    if found is None:
        found = next(element.iterchildren("{*}" + name), None)
        if found is None:
            return None
    text = found.text
    return text.strip() if text else ""


# Tag -> local name, filled as tags are met; bounded so hostile documents cannot grow it.
_LOCAL_NAMES: dict[str, str] = {}
_LOCAL_NAMES_MAX = 2048


def index_children(element: etree._Element) -> dict[str, etree._Element]:
    """Child elements by local name (the first of each name), in one pass over the children.

    Cheaper than several :func:`child` calls when a decoder reads most children of an element.
    """
    index: dict[str, etree._Element] = {}
    names = _LOCAL_NAMES
    for item in element:
        tag = item.tag
        if tag.__class__ is not str:  # comments and processing instructions
            continue
        name = names.get(tag)
        if name is None:
            name = tag[tag.rfind("}") + 1 :]
            if len(names) < _LOCAL_NAMES_MAX:
                names[tag] = name
        index.setdefault(name, item)
    return index


def text_of(element: etree._Element | None) -> str | None:
    """The stripped direct text of ``element`` (``None`` when it is absent)."""
    if element is None:
        return None
    text = element.text
    return text.strip() if text else ""


def element_text(element: etree._Element | None) -> str | None:
    """The stripped text of ``element``, including text of nested children."""
    if element is None:
        return None
    return "".join(str(t) for t in element.itertext()).strip()


def xml_escape(value: str) -> str:
    """Escape text for element content and double-quoted attributes."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if '"' in value:
        value = value.replace('"', "&quot;")
    return value


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class _Frame:
    """An envelope's fixed text around the TransactionID and the operation's content."""

    text: tuple[str, str, str]
    ascii: tuple[bytes, bytes, bytes]


# (namespace, charset, operation or "" for a fault, style) -> its frame (a few profiles, forms
# and operations)
_FRAMES: dict[tuple[str, str, str, str], _Frame] = {}


def mm7_element(name: str, namespace: str, style: str, attrs: str = "") -> tuple[str, str]:
    """The start tag (declaring ``namespace``, then ``attrs``) and end tag of MM7 element
    ``name`` written as the top of an MM7 tree in ``style``: the MM7 namespace as default
    namespace (``"default-ns"``), else the ``mm7:`` prefix."""
    ns = xml_escape(namespace)
    if style == "default-ns":
        return f'<{name} xmlns="{ns}"{attrs}>', f"</{name}>"
    return f'<mm7:{name} xmlns:mm7="{ns}"{attrs}>', f"</mm7:{name}>"


def _frame(namespace: str, charset: str, operation: str, style: str) -> _Frame:
    key = (namespace, charset, operation, style)
    frame = _FRAMES.get(key)
    if frame is None:
        tid_start, tid_end = mm7_element(
            "TransactionID", namespace, style, ' env:mustUnderstand="1"'
        )
        head = (
            f'<?xml version="1.0" encoding="{charset}"?>'
            f'<env:Envelope xmlns:env="{SOAP_ENV_NS}"><env:Header>{tid_start}'
        )
        middle = f"{tid_end}</env:Header><env:Body>"
        tail = "</env:Body></env:Envelope>"
        if operation:
            op_start, op_end = mm7_element(operation, namespace, style)
            middle += op_start
            tail = op_end + tail
        text = (head, middle, tail)
        # a non-ASCII namespace becomes character references: the same URI once parsed
        ascii = tuple(piece.encode("ascii", "xmlcharrefreplace") for piece in text)
        frame = _Frame(text, (ascii[0], ascii[1], ascii[2]))
        if len(_FRAMES) < 256:
            _FRAMES[key] = frame
    return frame


def _encode(text: str, codec: str) -> bytes:
    if text.isascii():
        return text.encode("ascii")  # the same bytes in every ASCII-compatible charset
    return text.encode(codec, "xmlcharrefreplace")


def splices_text(codec: str) -> bool:
    """True when text written in ``codec`` can be spliced into written bytes piece by piece
    (ASCII-compatible, stateless: no BOM or shift state per piece)."""
    return codec in _ASCII_COMPATIBLE


def text_bytes(name: str, value: str, codec: str) -> bytes:
    """``value`` as the text of element ``name``, in bytes of ``codec``, exactly as
    :class:`XmlWriter` writes it: a piece to splice into an envelope written in ``codec`` (see
    :func:`splices_text`). Raises :class:`ValidationError` for text XML cannot carry."""
    if value.isascii():
        data = value.encode("ascii")
        if data.isalnum():  # ASCII letters and digits (ids) need neither check nor escape
            return data
    return _encode(_escaped(name, value), codec)


def xml_can_carry(value: str) -> bool:
    """False for text with characters XML 1.0 cannot carry (control characters, U+FFFE/FFFF)."""
    return _XML_ILLEGAL.search(value) is None


def _escaped(name: str, value: str) -> str:
    """``value`` escaped as the text of element ``name``; text XML cannot carry is refused."""
    if _XML_ILLEGAL.search(value):
        raise ValidationError(name, value, "contains control characters XML cannot carry")
    return xml_escape(value)


class XmlWriter:
    """Writes one MM7 SOAP envelope as text in a :class:`~mm7client.model.MessageForm` (the
    profile's unless given): namespace, MM7Version and style; the profile gives the charset and
    the boolean spelling."""

    __slots__ = ("_form", "_namespace", "_parts", "_prefix", "_profile")

    def __init__(self, profile: CarrierProfile, form: MessageForm | None = None) -> None:
        self._profile = profile
        if form is None:
            form = profile.form
        self._form = form
        # a form read from a peer that sent no namespace is written in the profile's
        self._namespace = form.namespace or profile.namespace
        self._prefix = "mm7:" if form.style == "prefixed" else ""
        self._parts: list[str] = []

    def version(self, value: str | None) -> None:
        """``MM7Version``: ``value``, else the form's, else the profile's."""
        self.element("MM7Version", value or self._form.version or self._profile.mm7_version)

    def boolean(self, value: bool) -> str:
        """A boolean spelled the profile's way."""
        if self._profile.boolean_style == "title":
            return "True" if value else "False"
        return "true" if value else "false"

    def open(self, name: str, attrs: str = "") -> None:
        """Open a child element; ``attrs`` is pre-escaped text starting with a space."""
        self._parts.append(f"<{self._prefix}{name}{attrs}>")

    def close(self, name: str) -> None:
        """Close a child element."""
        self._parts.append(f"</{self._prefix}{name}>")

    def element(self, name: str, value: str | None, attrs: str = "") -> None:
        """``<name>value</name>`` (skipped when ``value`` is ``None``)."""
        if value is None:
            return
        if not value.isalnum():  # letters and digits (ids, codes) need neither check nor escape
            value = _escaped(name, value)
        self._parts.append(f"<{self._prefix}{name}{attrs}>{value}</{self._prefix}{name}>")

    def empty(self, name: str, attrs: str = "") -> None:
        """``<name attrs/>``."""
        self._parts.append(f"<{self._prefix}{name}{attrs}/>")

    def envelope(self, operation: str, transaction_id: str, *, fault: str | None = None) -> bytes:
        """Wrap what was written into ``<operation>`` inside a SOAP envelope, encoded.

        With ``fault`` (pre-built Fault XML), the body holds that instead of ``operation``.
        """
        profile = self._profile
        codec = profile.codec
        frame = _frame(
            self._namespace,
            profile.charset,
            "" if fault is not None else operation,
            self._form.style,
        )
        tid = transaction_id
        if not tid.isalnum():
            tid = _escaped("TransactionID", tid)
        body = fault if fault is not None else "".join(self._parts)
        if not splices_text(codec):  # e.g. UTF-16: one encoder pass (one BOM)
            head, middle, tail = frame.text
            return (head + tid + middle + body + tail).encode(codec, "xmlcharrefreplace")
        # The frame is encoded once per profile and operation; only the variable text goes
        # through the charset's encoder. Characters outside the charset (validation refuses
        # them in requests) become character references: still well-formed, nothing lost.
        head_bytes, middle_bytes, tail_bytes = frame.ascii
        return b"".join(
            (head_bytes, _encode(tid, codec), middle_bytes, _encode(body, codec), tail_bytes)
        )

    def wrapped(self, name: str) -> str:
        """What was written so far inside MM7 element ``name`` that declares the namespace (a
        fault's detail)."""
        start, end = mm7_element(name, self._namespace, self._form.style)
        return start + "".join(self._parts) + end
