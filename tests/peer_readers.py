"""How two kinds of MM7 peers found in the wild read what we write (test helpers).

* :func:`strict_read` - a **namespace-strict** reader (as instantcom-mm7 reads, in Java): it
  looks every child up in the MM7 namespace only, and reads a status it cannot find as
  nothing, silently;
* :func:`blind_read` - a **namespace-blind** reader (as drivefast/mmsgw reads, via xmltodict
  without namespace processing): element names are the raw ``prefix:local`` text, the SOAP
  prefix is stripped textually, the Body's element is taken whatever its name, and children
  are matched by their bare local name.

The default-namespace form (``<SubmitRsp xmlns="NS"><Status>``) is read by both; the prefixed
form only by the strict one; LG U+'s form (unqualified children) only by the blind one
(:data:`STRICT_READS`, :data:`BLIND_READS`).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from typing import Any

from lxml import etree

from mm7client.codec.readers.body import split_body

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
STYLES = ("default-ns", "prefixed", "lgt")

#: which reader reads which form
STRICT_READS = {"default-ns": True, "prefixed": True, "lgt": False}
BLIND_READS = {"default-ns": True, "prefixed": False, "lgt": True}


def strict_read(envelope: bytes, namespace: str) -> tuple[str | None, str | None, str | None]:
    """(TransactionID, StatusCode, MessageID) found in the MM7 namespace only."""
    root = etree.fromstring(envelope)
    q = f"{{{namespace}}}"
    tid = root.findtext(f"{{{SOAP}}}Header/{q}TransactionID")
    body = root.find(f"{{{SOAP}}}Body")
    assert body is not None
    holder = body[0]
    if holder.tag == f"{{{SOAP}}}Fault":  # the error response in its detail (RSErrorRsp...)
        holder = holder.find(f"detail/{q}*")
        assert holder is not None
    return tid, holder.findtext(f"{q}Status/{q}StatusCode"), holder.findtext(f"{q}MessageID")


def _blind_tree(envelope: bytes) -> dict[str, Any]:
    """The document as nested dicts keyed by raw element names (xmltodict, no namespaces)."""
    declared = re.match(rb'<\?xml[^>]*encoding="([^"]+)"[^>]*\?>', envelope)
    text = envelope[declared.end() :].decode(declared.group(1).decode()) if declared else envelope
    # no namespace_separator: names stay "p:Local"
    parser = xml.parsers.expat.ParserCreate("utf-8")
    stack: list[dict[str, Any]] = [{}]
    texts: list[list[str]] = [[]]

    def start(name: str, attrs: dict[str, str]) -> None:
        node: dict[str, Any] = {}
        stack[-1].setdefault(name, node)
        stack.append(node)
        texts.append([])

    def end(name: str) -> None:
        node = stack.pop()
        text = "".join(texts.pop()).strip()
        if not node:
            stack[-1][name] = text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda data: texts[-1].append(data)
    parser.Parse(text.encode() if isinstance(text, str) else text, True)
    return stack[0]


def blind_read(envelope: bytes) -> tuple[str | None, str | None, str | None]:
    """(TransactionID, StatusCode, MessageID) matched by bare local names, no namespaces."""
    tree = _blind_tree(envelope)
    (env_name,) = tree
    prefix = env_name.partition(":")[0] + ":" if ":" in env_name else ""
    envelope_node = tree[env_name]
    header = envelope_node.get(prefix + "Header", {})
    tid = header.get("TransactionID")
    body = envelope_node[prefix + "Body"]
    holder = next(iter(body.values()))
    if prefix + "Fault" in body:
        holder = next(iter(holder["detail"].values()))
    status = holder.get("Status")
    code = status.get("StatusCode") if isinstance(status, dict) else None
    return (tid if isinstance(tid, str) else None), code, holder.get("MessageID")


def envelope_of(body: bytes, content_type: str) -> bytes:
    """The SOAP envelope of an MM7 body (the root part of a multipart)."""
    return split_body(body, content_type).envelope
