"""The web inbox of the mock MMSC: ``GET /`` (same port as the MM7 endpoint).

The page is plain HTML, CSS and JavaScript shipped as package data (no build step, nothing
fetched from the internet). It reads the admin API under ``/api/`` and a few read-only views
made for it:

* ``GET /api/events`` - server-sent events from :meth:`mockmmsc.store.Store.subscribe`
  (one ``data:`` JSON line per event, a comment line as heartbeat).
* ``GET /web-api/info`` - profile, time scale and endpoint paths.
* ``GET /web-api/messages`` - received requests, newest first, with the sender, the normalized
  meaning of the status answered and the delivery-report state; filters ``q``, ``recipient``,
  ``vas_id``, ``status_code``, ``since``, ``until`` (ISO 8601), ``limit``, ``offset``.
* ``GET /web-api/messages/{id}`` - one request as the page shows it: SMIL slides, attachments,
  the SOAP envelope and the HTTP request.
* ``GET /web-api/messages/{id}/parts/{index}`` - a part as a download (never rendered inline).

Everything shown is attacker-controlled, so the page builds its DOM with text nodes only and
is served with a strict Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from aiohttp import web
from lxml import etree

from mm7client.codec import split_body
from mm7client.codec.smil import media_kind
from mm7client.codec.soap import parse_xml
from mm7client.codes import normalize_submit_status
from mm7client.errors import MM7Error, ParseError
from mm7client.model import Part, SubmitRequest

if TYPE_CHECKING:
    from mockmmsc.app import MockMMSC
    from mockmmsc.store import ReceivedRequest, ReportRecord

__all__ = ["CONTENT_SECURITY_POLICY", "HEARTBEAT_SECONDS", "MAX_EVENT_STREAMS", "setup"]

log = logging.getLogger(__name__)

#: The page's Content-Security-Policy: only its own scripts, styles and images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: Seconds between heartbeat comments on an idle event stream.
HEARTBEAT_SECONDS = 15.0
#: Event streams served at once (more get HTTP 503).
MAX_EVENT_STREAMS = 64
#: Largest body shown as text in the HTTP request view (the rest is cut, the raw link has it).
MAX_SHOWN_BODY = 512 * 1024
#: Largest text part sent to the page per part.
MAX_SHOWN_TEXT = 200_000
_MAX_LIMIT = 1000
_MAX_SLIDES = 200
_STATIC = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
_STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_MM7_PATHS = ("/", "/mm7")


class _WebState:
    """Per-application state of the inbox: its open event streams."""

    def __init__(self) -> None:
        self.streams = 0
        self.closing = asyncio.Event()


_STATE: web.AppKey[_WebState] = web.AppKey("mockmmsc.web", _WebState)


def _mock(request: web.Request) -> MockMMSC:
    from mockmmsc.app import MOCK_KEY

    return request.app[MOCK_KEY]


class _BadInput(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


# -- static files ---------------------------------------------------------------------------


@lru_cache(maxsize=len(_STATIC))
def _static_bytes(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def _static_response(name: str) -> web.Response:
    return web.Response(
        body=_static_bytes(name),
        content_type=_STATIC[name],
        charset="utf-8",
        headers=_STATIC_HEADERS,
    )


async def index(request: web.Request) -> web.Response:
    """``GET /``: the inbox page."""
    return _static_response("index.html")


async def static(request: web.Request) -> web.Response:
    """``GET /static/{name}``: the page's script and style sheet."""
    name = request.match_info["name"]
    if name not in _STATIC or name == "index.html":
        return _error(404, f"no static file {name!r}")
    return _static_response(name)


# -- enriched views -------------------------------------------------------------------------


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
    request = item.request
    address = getattr(request, "sender_address", None)
    if address is not None:
        return str(address.value)
    callback = getattr(request, "callback", None)
    return str(callback) if callback else None


def report_state(reports: list[ReportRecord], requested: bool) -> dict[str, Any]:
    """The delivery-report state of one request.

    ``state`` is ``none`` (no report asked or due), ``pending`` (some not sent yet),
    ``sent`` (every report POSTed, some not acknowledged), ``acknowledged`` (every one
    acknowledged) or ``failed`` (given up on some).
    """
    total = len(reports)
    acknowledged = sum(1 for r in reports if r.acknowledged)
    sent = sum(1 for r in reports if r.attempts > 0)
    given_up = sum(1 for r in reports if r.given_up)
    if total == 0:
        state = "pending" if requested else "none"
    elif acknowledged == total:
        state = "acknowledged"
    elif given_up:
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
        "last_error": errors[-1] if errors else None,
    }


def _report_requested(item: ReceivedRequest) -> bool:
    request = item.request
    return (
        isinstance(request, SubmitRequest)
        and bool(request.delivery_report)
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
    for index, part in enumerate(result["parts"]):
        part["kind"] = media_kind(part["content_type"])
        part["smil"] = part["content_type"].lower() == "application/smil"
        part["download_url"] = f"/web-api/messages/{item.id}/parts/{index}"
        if part["text"] is not None:
            part["text"], part["text_truncated"] = _cut(part["text"], MAX_SHOWN_TEXT)
    return result


# -- filters --------------------------------------------------------------------------------


def _time_param(request: web.Request, name: str) -> float | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        message = f"{name}={raw!r}: expected an ISO 8601 time or epoch seconds"
        raise _BadInput(400, message) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise _BadInput(400, f"{name}={raw!r}: expected an integer 0..{maximum}")
    return int(raw)


def _matches(item: ReceivedRequest, filters: dict[str, Any]) -> bool:
    recipient = filters["recipient"]
    if recipient and not any(recipient in r for r in item.recipients):
        return False
    vas_id = filters["vas_id"]
    if vas_id and vas_id not in (item.vas_id or "").casefold():
        return False
    if filters["status_code"] is not None and item.status_code != filters["status_code"]:
        return False
    if filters["since"] is not None and item.received_at < filters["since"]:
        return False
    if filters["until"] is not None and item.received_at > filters["until"]:
        return False
    words = filters["q"]
    if words:
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
        if not all(w in haystack for w in words):
            return False
    return True


def _filters(request: web.Request) -> dict[str, Any]:
    status = request.query.get("status_code", "").strip()
    if status and not status.isdigit():
        raise _BadInput(400, f"status_code={status!r}: expected a number such as 4030")
    return {
        "q": request.query.get("q", "").casefold().split()[:10],
        "recipient": request.query.get("recipient", "").strip(),
        "vas_id": request.query.get("vas_id", "").strip().casefold(),
        "status_code": int(status) if status else None,
        "since": _time_param(request, "since"),
        "until": _time_param(request, "until"),
    }


# -- handlers -------------------------------------------------------------------------------


async def info(request: web.Request) -> web.Response:
    """``GET /web-api/info``"""
    mock = _mock(request)
    return web.json_response(
        {
            "profile": mock.profile.name,
            "time_scale": mock.settings.time_scale,
            "mm7_path": "/mm7",
            "messages": len(mock.store.messages),
        }
    )


async def list_messages(request: web.Request) -> web.Response:
    """``GET /web-api/messages``: filtered rows, newest first."""
    try:
        filters = _filters(request)
        limit = _int_param(request, "limit", 200, _MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 10**9)
    except _BadInput as exc:
        return _error(exc.status, exc.message)
    items = _mock(request).store.messages
    items.reverse()
    matching = [m for m in items if _matches(m, filters)]
    return web.json_response(
        {
            "total": len(items),
            "matching": len(matching),
            "offset": offset,
            "messages": [row(m) for m in matching[offset : offset + limit]],
        }
    )


def _item(request: web.Request) -> ReceivedRequest | web.Response:
    raw = request.match_info["id"]
    if not raw.isdigit():
        return _error(400, f"message id {raw!r}: expected an integer")
    item = _mock(request).store.get(int(raw))
    if item is None:
        return _error(404, f"no message with id {raw}")
    return item


async def get_message(request: web.Request) -> web.Response:
    """``GET /web-api/messages/{id}``"""
    item = _item(request)
    if isinstance(item, web.Response):
        return item
    return web.json_response(detail(item))


def _content_disposition(filename: str) -> str:
    ascii_name = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-"))
    return f"attachment; filename=\"{ascii_name or 'part'}\"; filename*=UTF-8''{quote(filename)}"


async def download_part(request: web.Request) -> web.Response:
    """``GET /web-api/messages/{id}/parts/{index}``: always a download, never rendered."""
    item = _item(request)
    if isinstance(item, web.Response):
        return item
    raw = request.match_info["index"]
    parts = item.parts
    if not raw.isdigit() or int(raw) >= len(parts):
        return _error(404, f"message {item.id} has no part {raw!r} ({len(parts)} parts)")
    part = parts[int(raw)]
    filename = part.filename or f"part-{raw}"
    return web.Response(
        body=part.data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": _content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


def _enrich(mock: MockMMSC, event: dict[str, Any]) -> dict[str, Any]:
    if event.get("type") == "request":
        message = event.get("message") or {}
        item = mock.store.get(message.get("id", -1))
        if item is not None:
            return {"type": "request", "message": row(item)}
    return event


async def events(request: web.Request) -> web.StreamResponse:
    """``GET /api/events``: every store event as a server-sent event.

    Each event is one ``data:`` line of JSON (``{"type": "request"|"report"|"deleted"|
    "cleared"|"overload", ...}``); an idle stream gets a ``: ping`` comment every
    :data:`HEARTBEAT_SECONDS`. The stream ends when the client goes away or the server stops.
    """
    state = request.app[_STATE]
    if state.streams >= MAX_EVENT_STREAMS:
        return _error(503, f"too many event streams open (limit {MAX_EVENT_STREAMS})")
    mock = _mock(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    state.streams += 1
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n: connected\n\n")
        await _pump(request, response, mock, state)
    except ConnectionError as exc:
        # the client went away (a reset write, or a write on a closing transport)
        log.debug("event stream closed: %s", exc)
    finally:
        state.streams -= 1
    return response


async def _pump(
    request: web.Request, response: web.StreamResponse, mock: MockMMSC, state: _WebState
) -> None:
    stream = cast(AsyncGenerator[dict[str, Any], None], mock.store.subscribe())
    closing: asyncio.Future[Any] = asyncio.ensure_future(state.closing.wait())
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(stream))
            done, _ = await asyncio.wait(
                {pending, closing}, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if closing in done:
                return
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            if pending in done:
                event = pending.result()
                pending = None
                await response.write(_sse(_enrich(mock, event)))
            else:
                await response.write(b": ping\n\n")
    finally:
        closing.cancel()
        if pending is not None:
            # cancelling the pending read ends the subscription (its finally unsubscribes)
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await stream.aclose()


async def _on_shutdown(app: web.Application) -> None:
    app[_STATE].closing.set()


def setup(app: web.Application) -> None:
    """Add the inbox page, its static files, ``/api/events`` and ``/web-api/`` to ``app``."""
    app[_STATE] = _WebState()
    app.on_shutdown.append(_on_shutdown)
    r = app.router
    r.add_get("/", index)
    r.add_get("/static/{name}", static)
    r.add_get("/api/events", events)
    r.add_get("/web-api/info", info)
    r.add_get("/web-api/messages", list_messages)
    r.add_get("/web-api/messages/{id}", get_message)
    r.add_get("/web-api/messages/{id}/parts/{index}", download_part)
