"""JSON views of what the mock received, as the API serves them (pure: no aiohttp).

* :func:`row` - one request in a list: its summary, the sender, the normalized meaning of the
  status answered and the delivery-report state.
* :func:`detail` - one request as the inbox shows it: fields and parts, SMIL slides
  (:func:`presentation`), the SOAP envelope, the HTTP request, the reports.
* :class:`MessageQuery` - the one filter of ``GET /api/messages`` (and of the inbox).

Everything here is attacker-controlled data returned verbatim as JSON; the inbox builds its
DOM from it with text nodes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from mm7client.codec import split_body
from mm7client.codec.smil import media_kind
from mm7client.codec.soap import parse_xml
from mm7client.codes import normalize_submit_status
from mm7client.errors import MM7Error, ParseError
from mm7client.model import Part
from mockmmsc.store import ReceivedRequest, ReportRecord

__all__ = [
    "MAX_LIMIT",
    "MessageQuery",
    "QueryError",
    "detail",
    "presentation",
    "report_state",
    "row",
]

#: Largest body shown as text in the HTTP request view (the rest is cut, the raw link has it).
MAX_SHOWN_BODY = 512 * 1024
#: Largest text part sent to the page per part.
MAX_SHOWN_TEXT = 200_000
#: Largest page of ``GET /api/messages``.
MAX_LIMIT = 1000
_MAX_SLIDES = 200


# -- rows and details ---------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _normalized(code: int, text: str | None) -> dict[str, Any]:
    result = normalize_submit_status(code, text)
    return {
        "category": str(result.category),
        "result_message": result.result_message,
        "explanation": result.explanation,
        "convert_result": result.convert_result,
        "known": result.known,
        "pause_seconds": result.pause_seconds,
    }


def _sender(item: ReceivedRequest) -> str | None:
    envelope = item.envelope
    if envelope is None:
        return None
    if envelope.sender_address is not None:
        return envelope.sender_address
    return envelope.callback or None


def report_state(reports: list[ReportRecord], requested: bool) -> dict[str, Any]:
    """The delivery-report state of one request.

    ``state`` is ``none`` (no report asked or due), ``pending`` (some not sent yet),
    ``sent`` (every report POSTed, some not acknowledged), ``acknowledged`` (every one
    acknowledged), ``undeliverable`` (no report URL for its VASID: never sent) or ``failed``
    (given up on some, or some expired unacknowledged).
    """
    total = len(reports)
    acknowledged = sum(1 for r in reports if r.acknowledged)
    sent = sum(1 for r in reports if r.attempts > 0)
    given_up = sum(1 for r in reports if r.given_up)
    expired = sum(1 for r in reports if r.expired)
    undeliverable = sum(1 for r in reports if r.undeliverable)
    if total == 0:
        state = "pending" if requested else "none"
    elif acknowledged == total:
        state = "acknowledged"
    elif undeliverable:
        state = "undeliverable"
    elif given_up or expired:
        state = "failed"
    elif sent == total:
        state = "sent"
    else:
        state = "pending"
    errors = [r.last_error for r in reports if r.last_error and not r.acknowledged]
    return {
        "state": state,
        "mm_statuses": sorted({r.mm_status for r in reports}),
        "total": total,
        "sent": sent,
        "acknowledged": acknowledged,
        "given_up": given_up,
        "expired": expired,
        "undeliverable": undeliverable,
        "last_error": errors[-1] if errors else None,
    }


def _report_requested(item: ReceivedRequest) -> bool:
    envelope = item.envelope
    return (
        envelope is not None
        and envelope.operation == "SubmitReq"
        and bool(envelope.delivery_report)
        and item.message_id is not None
        and 1000 <= item.status_code < 2000
    )


def row(item: ReceivedRequest) -> dict[str, Any]:
    """The list view of one request: its summary plus sender, meaning and report state."""
    result = item.summary()
    result["sender"] = _sender(item)
    result["normalized"] = _normalized(item.status_code, item.status_text)
    result["report_state"] = report_state(list(item.reports), _report_requested(item))
    result["received_epoch"] = item.received_at
    return result


def _decode_text(data: bytes, charset: str | None = None) -> str:
    for codec in (charset, "utf-8"):
        if not codec:
            continue
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp949", "replace")


def _cut(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit], True


def _soap_envelope(item: ReceivedRequest) -> dict[str, Any]:
    if not item.raw_body:
        return {"text": None, "error": "no body was read"}
    try:
        split = split_body(item.raw_body, item.content_type)
    except MM7Error as exc:
        return {"text": None, "error": f"no SOAP envelope found: {exc}"}
    text, cut = _cut(_decode_text(split.envelope, split.charset), MAX_SHOWN_BODY)
    return {"text": text, "truncated": cut, "error": None}


def _http_request(item: ReceivedRequest) -> dict[str, Any]:
    head = item.http_head
    if head is None:
        head_text = (
            "POST /mm7 HTTP/1.1\r\n"
            f"Content-Type: {item.content_type}\r\n"
            f"Content-Length: {len(item.raw_body)}\r\n\r\n"
        )
    else:
        head_text = head.text()
    body, cut = _cut(_decode_text(item.raw_body[:MAX_SHOWN_BODY]), MAX_SHOWN_BODY)
    return {
        "head": head_text,
        "head_recorded": head is not None,
        "body": body,
        "truncated": cut or len(item.raw_body) > MAX_SHOWN_BODY,
        "size": len(item.raw_body),
    }


# -- SMIL slides ----------------------------------------------------------------------------

_MEDIA_TAGS = {"img", "text", "audio", "video", "ref", "animation", "textstream"}


def _is_smil(part: Part) -> bool:
    return part.content_type.lower() == "application/smil"


def _find_part(parts: list[Part], src: str) -> int | None:
    value = src.strip()
    if value[:4].lower() == "cid:":
        wanted = value[4:].strip().strip("<>")
        for i, part in enumerate(parts):
            if part.content_id and part.content_id.strip("<>") == wanted:
                return i
        return None
    for i, part in enumerate(parts):
        if part.filename == value or (part.content_id and part.content_id.strip("<>") == value):
            return i
    return None


def _smil_slides(parts: list[Part]) -> list[dict[str, Any]] | None:
    """Slides from the SMIL part, in order; None when there is no usable SMIL."""
    smil = next((p for p in parts if _is_smil(p) and p.text), None)
    if smil is None or smil.text is None:
        return None
    try:
        # the codec's hardened parser: no DOCTYPE, no entities, no network, bounded size
        root = parse_xml(smil.data, smil.charset)
    except ParseError:
        return None
    slides: list[dict[str, Any]] = []
    for par in root.iter("{*}par"):
        items = []
        for element in par.iter():
            if not isinstance(element.tag, str):
                continue
            tag = etree.QName(element).localname
            src = element.get("src")
            if tag not in _MEDIA_TAGS or not src:
                continue
            index = _find_part(parts, src)
            items.append({"part": index, "src": src if index is None else None})
        slides.append({"duration": par.get("dur"), "items": items})
        if len(slides) >= _MAX_SLIDES:
            break
    return slides or None


def _default_slides(parts: list[Part]) -> list[dict[str, Any]]:
    """One slide per media part with the text next to it (the codec's own SMIL rule)."""
    slides: list[dict[str, Any]] = []
    has_text: list[bool] = []
    has_media: list[bool] = []
    for index, part in enumerate(parts):
        if _is_smil(part):
            continue
        is_text = media_kind(part.content_type) == "text"
        taken = has_text if is_text else has_media
        if slides and not taken[-1]:
            slides[-1]["items"].append({"part": index, "src": None})
        else:
            slides.append({"duration": None, "items": [{"part": index, "src": None}]})
            has_text.append(False)
            has_media.append(False)
        taken[-1] = True
        if len(slides) > _MAX_SLIDES:
            break
    return slides


def presentation(item: ReceivedRequest) -> dict[str, Any]:
    """The MMS as a handset shows it: slides in order, then the parts no slide shows."""
    parts = item.parts
    slides = _smil_slides(parts)
    from_smil = slides is not None
    if slides is None:
        slides = _default_slides(parts)
    shown = {i["part"] for s in slides for i in s["items"] if i["part"] is not None}
    attachments = [i for i, p in enumerate(parts) if i not in shown and not _is_smil(p)]
    return {"from_smil": from_smil, "slides": slides, "attachments": attachments}


def detail(item: ReceivedRequest) -> dict[str, Any]:
    """Everything the message view shows about one request."""
    result = item.to_dict()
    result.update(
        {
            "sender": _sender(item),
            "normalized": _normalized(item.status_code, item.status_text),
            "report_state": report_state(list(item.reports), _report_requested(item)),
            "received_epoch": item.received_at,
            "presentation": presentation(item),
            "soap_envelope": _soap_envelope(item),
            "http_request": _http_request(item),
        }
    )
    for part in result["parts"]:
        part["kind"] = media_kind(part["content_type"])
        part["smil"] = part["content_type"].lower() == "application/smil"
        part["download_url"] = f"{part['url']}?download=1"
        if part["text"] is not None:
            part["text"], part["text_truncated"] = _cut(part["text"], MAX_SHOWN_TEXT)
    return result


# -- the filter -----------------------------------------------------------------------------


class QueryError(ValueError):
    """A filter parameter has a bad value; the message names it."""


def _time_param(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{name}={raw!r}: expected an ISO 8601 time or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def int_param(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """The integer query parameter ``name`` (0..``maximum``), else ``default``."""
    raw = query.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise QueryError(f"{name}={raw!r}: expected an integer 0..{maximum}")
    return int(raw)


@dataclass(frozen=True, slots=True)
class MessageQuery:
    """Which received requests a list shows; every given filter must match.

    * ``q`` - words (case-insensitive), each found in the subject, VASID, sender, MessageID,
      TransactionID, operation, status code or a recipient;
    * ``recipient`` - text found in one of the recipients (``3333`` finds ``01033334444``);
    * ``vas_id`` - text found in the VASID, case-insensitive;
    * ``operation`` - the operation exactly (``SubmitReq``, ``CancelReq``...);
    * ``status_code`` - the MM7 status answered exactly;
    * ``since`` / ``until`` - received at or after / at or before (ISO 8601 or epoch seconds;
      a time without zone is UTC).
    """

    q: tuple[str, ...] = ()
    recipient: str = ""
    vas_id: str = ""
    operation: str = ""
    status_code: int | None = None
    since: float | None = None
    until: float | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> MessageQuery:
        """The filter of URL query parameters; :class:`QueryError` names a bad one."""
        status = query.get("status_code", "").strip()
        if status and not status.isdigit():
            raise QueryError(f"status_code={status!r}: expected a number such as 4030")
        return cls(
            q=tuple(query.get("q", "").casefold().split()[:10]),
            recipient=query.get("recipient", "").strip(),
            vas_id=query.get("vas_id", "").strip().casefold(),
            operation=query.get("operation", "").strip(),
            status_code=int(status) if status else None,
            since=_time_param(query, "since"),
            until=_time_param(query, "until"),
        )

    def matches(self, item: ReceivedRequest) -> bool:
        """True when ``item`` passes every given filter."""
        if self.recipient and not any(self.recipient in r for r in item.recipients):
            return False
        if self.vas_id and self.vas_id not in (item.vas_id or "").casefold():
            return False
        if self.operation and item.operation != self.operation:
            return False
        if self.status_code is not None and item.status_code != self.status_code:
            return False
        if self.since is not None and item.received_at < self.since:
            return False
        if self.until is not None and item.received_at > self.until:
            return False
        if self.q:
            haystack = " ".join(
                str(v)
                for v in (
                    item.subject,
                    item.vas_id,
                    _sender(item),
                    item.message_id,
                    item.transaction_id,
                    item.operation,
                    item.status_code,
                    *item.recipients,
                )
                if v is not None
            ).casefold()
            if not all(word in haystack for word in self.q):
                return False
        return True
