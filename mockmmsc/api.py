"""The mock's one JSON API under ``/api/`` (described by ``GET /api/openapi.json``).

What was received (``/api/messages``, one filter: :class:`mockmmsc.views.MessageQuery`; rows
and details from :mod:`mockmmsc.views`), how the mock behaves (``/api/rules``, ``/api/faults``,
``/api/overload``, ``/api/tps``, ``/api/report-urls``), the delivery reports
(``/api/reports``), the traffic per VASID of the last minutes (``/api/traffic``), what it is
(``/api/info``) and everything that happens, live (``/api/events``, server-sent events). The
web inbox is a client of this API like any other.

The OpenAPI document (:mod:`mockmmsc.openapi`) is the truth: every route's parameters and JSON
body are checked against it before its handler runs (400 naming the field), and a method a
path lacks is answered 405 with ``Allow``. Errors are JSON ``{"error": "...", "status": N}``
with a 4xx status that says what was wrong with the input. Request bodies are limited to
:data:`MAX_API_BODY` bytes and :data:`MAX_JSON_DEPTH` levels of nesting; ``NaN`` and
``Infinity`` are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from operator import attrgetter
from typing import Any, cast
from urllib.parse import quote

from aiohttp import web

from mm7client.server import BodyPolicy
from mm7client.server_aiohttp import RequestRefused, read_body
from mockmmsc.faults import Fault
from mockmmsc.openapi import OPENAPI, SchemaError, body_schema, check_parameters, check_value
from mockmmsc.reports import ReportDispatcher
from mockmmsc.settings import ConflictError, SettingsError
from mockmmsc.state import MockState
from mockmmsc.store import ReceivedRequest
from mockmmsc.views import MAX_LIMIT, MessageQuery, QueryError, detail, int_param, row

__all__ = ["HEARTBEAT_SECONDS", "MAX_API_BODY", "MAX_EVENT_STREAMS", "MAX_JSON_DEPTH", "JsonApi"]

log = logging.getLogger(__name__)

#: Largest JSON body accepted.
MAX_API_BODY = 256 * 1024
_API_BODY = BodyPolicy(MAX_API_BODY)
#: Deepest nesting of arrays and objects accepted in a JSON body.
MAX_JSON_DEPTH = 32
#: Seconds between heartbeat comments on an idle event stream.
HEARTBEAT_SECONDS = 15.0
#: Event streams served at once (more get HTTP 503).
MAX_EVENT_STREAMS = 64

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A 4xx answer with a JSON error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


def _json_errors(handler: Handler) -> Handler:
    """``handler`` answering its errors as JSON (wrapped once at setup: a middleware would
    cost every MM7 request too)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return _error(exc.status, exc.message)
        except ConflictError as exc:
            return _error(409, str(exc))
        except (SettingsError, QueryError, SchemaError) as exc:
            return _error(400, str(exc))
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise

    return wrapped


#: where the checked JSON body of a request is kept for its handler
_BODY: web.RequestKey[Any] = web.RequestKey("mockmmsc.api.body", object)


def _checked(path: str, method: str, handler: Handler) -> Handler:
    """``handler`` behind the document's check of its parameters and JSON body."""
    operation = method.lower()
    schema = body_schema(path, operation)

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        check_parameters(path, operation, request.query, request.match_info)
        if schema is not None:
            data = await _json_body(request)
            check_value(data, schema, "body")
            request[_BODY] = data
        return await handler(request)

    return wrapped


def _not_allowed(allowed: list[str]) -> Handler:
    allow = ", ".join(allowed)

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"error": f"{request.method} not allowed on {request.path} (allowed: {allow})",
             "status": 405},
            status=405,
            headers={"Allow": allow},
        )  # fmt: skip

    return handler


async def _json_body(request: web.Request) -> Any:
    if _BODY in request:  # read and checked already
        return request[_BODY]
    try:
        data = await read_body(request, _API_BODY)
    except RequestRefused as exc:
        raise ApiError(exc.refusal.http_status, exc.refusal.reason) from None
    if not data.strip():
        raise ApiError(400, "expected a JSON body")
    depth = _json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise ApiError(
            400, f"JSON nested {depth} levels deep exceeds the limit of {MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_json_number)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, f"body is not valid JSON: {exc}") from exc


def _json_depth(data: bytes | bytearray) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text (brackets inside strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json_number(text: str) -> float | int:
    """A JSON number with a fraction or exponent: an int when it is integral (``2209.0`` is
    the integer 2209 to JSON Schema, and to the API)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _number(value: Any, name: str, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{name}={value!r}: expected a number")
    if value < 0:
        raise ApiError(400, f"{name}={value!r}: must be >= 0")
    if value == float("inf"):  # 1e999 parses as infinity
        raise ApiError(400, f"{name}={value!r}: must be finite")
    return float(value)


def _content_disposition(filename: str, kind: str) -> str:
    ascii_name = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-"))
    return f"{kind}; filename=\"{ascii_name or 'part'}\"; filename*=UTF-8''{quote(filename)}"


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


class JsonApi:
    """The handlers of ``/api/`` over one mock's state and report dispatcher."""

    def __init__(self, state: MockState, reports: ReportDispatcher) -> None:
        self.state = state
        self.reports = reports
        self.streams = 0
        self._closing = asyncio.Event()

    def setup(self, app: web.Application) -> None:
        """Add the routes to ``app`` (event streams end when it shuts down)."""
        app.on_shutdown.append(self._on_shutdown)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/api/openapi.json", self.openapi),
            ("GET", "/api/info", self.info),
            ("GET", "/api/events", self.events),
            ("GET", "/api/messages", self.list_messages),
            ("DELETE", "/api/messages", self.delete_messages),
            ("GET", "/api/messages/{id}", self.get_message),
            ("DELETE", "/api/messages/{id}", self.delete_message),
            ("GET", "/api/messages/{id}/raw", self.get_raw),
            ("GET", "/api/messages/{id}/parts/{index}", self.get_part),
            ("GET", "/api/rules", self.list_rules),
            ("POST", "/api/rules", self.add_rule),
            ("DELETE", "/api/rules", self.reset_rules),
            ("POST", "/api/rules/reset", self.reset_rules),
            ("DELETE", "/api/rules/{id}", self.delete_rule),
            ("GET", "/api/overload", self.get_overload),
            ("POST", "/api/overload", self.post_overload),
            ("DELETE", "/api/overload", self.delete_overload),
            ("GET", "/api/tps", self.get_tps),
            ("PUT", "/api/tps", self.put_tps),
            ("POST", "/api/tps", self.put_tps),
            ("GET", "/api/reports", self.list_reports),
            ("POST", "/api/reports/retry", self.retry_reports),
            ("GET", "/api/traffic", self.get_traffic),
            ("GET", "/api/report-urls", self.get_report_urls),
            ("PUT", "/api/report-urls", self.put_report_url),
            ("GET", "/api/faults", self.list_faults),
            ("POST", "/api/faults", self.add_fault),
            ("DELETE", "/api/faults", self.reset_faults),
            ("DELETE", "/api/faults/{id}", self.delete_fault),
        ]
        by_path: dict[str, list[tuple[str, Handler]]] = {}
        for method, path, handler in routes:
            by_path.setdefault(path, []).append((method, handler))
        for path, methods in by_path.items():
            allowed = []
            for method, handler in methods:
                checked = _json_errors(_checked(path, method, handler))
                if method == "GET":  # with HEAD, as aiohttp's add_get does
                    app.router.add_get(path, checked)
                    allowed += ["GET", "HEAD"]
                else:
                    app.router.add_route(method, path, checked)
                    allowed.append(method)
            # any other method on this path: 405 with Allow (added last: tried last)
            app.router.add_route("*", path, _not_allowed(allowed))
        app.router.add_route("*", "/api/{tail:.*}", _json_errors(self.not_found))

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._closing.set()

    # -- what the mock is --------------------------------------------------------------------

    async def openapi(self, request: web.Request) -> web.Response:
        """GET /api/openapi.json"""
        return web.json_response(OPENAPI)

    async def info(self, request: web.Request) -> web.Response:
        """GET /api/info: profile, time scale, MM7 path and how many requests are stored."""
        state = self.state
        return web.json_response(
            {
                "profile": state.profile.name,
                "answer_form": state.settings.answer_form,
                "time_scale": state.settings.time_scale,
                "mm7_path": "/mm7",
                "messages": len(state.store.messages),
            }
        )

    async def not_found(self, request: web.Request) -> web.Response:
        """Any other /api/ path."""
        raise ApiError(404, f"no API endpoint {request.method} {request.path}")

    # -- messages ----------------------------------------------------------------------------

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET /api/messages?q&recipient&vas_id&operation&status_code&since&until&limit&offset
        &before_id: matching requests, newest first (``total``: how many match; ``stored``: how
        many are kept). ``before_id`` pages back steadily while new requests arrive: the page
        starts below that id (``newer``: how many matching ones it skipped)."""
        query = MessageQuery.from_query(request.query)
        limit = int_param(request.query, "limit", 100, MAX_LIMIT)
        offset = int_param(request.query, "offset", 0, 10**9)
        before_id = int_param(request.query, "before_id", 0, 10**18) or None
        items = self.state.store.messages
        # newest first by arrival: ids are given as requests arrive (the store keeps them in
        # the order they were answered, which a delayed answer changes)
        items.sort(key=attrgetter("id"), reverse=True)
        matching = [m for m in items if query.matches(m)]
        newer = 0
        if before_id is not None:
            newer = sum(1 for m in matching if m.id >= before_id)
        page = matching[newer + offset : newer + offset + limit]
        return web.json_response(
            {
                "total": len(matching),
                "stored": len(items),
                "offset": offset,
                "newer": newer,
                "messages": [row(m) for m in page],
            }
        )

    def _item(self, request: web.Request) -> ReceivedRequest:
        raw = request.match_info["id"]
        if not raw.isdigit():
            raise ApiError(400, f"message id {raw!r}: expected an integer")
        item = self.state.store.get(int(raw))
        if item is None:
            raise ApiError(404, f"no message with id {raw}")
        return item

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /api/messages/{id}: fields, parts, slides, envelope, HTTP request, reports."""
        return web.json_response(detail(self._item(request)))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /api/messages/{id}"""
        item = self._item(request)
        self.state.store.delete(item.id)
        return web.json_response({"deleted": item.id})

    async def delete_messages(self, request: web.Request) -> web.Response:
        """DELETE /api/messages"""
        return web.json_response({"deleted": self.state.store.clear()})

    async def get_raw(self, request: web.Request) -> web.Response:
        """GET /api/messages/{id}/raw: the request body as received."""
        item = self._item(request)
        return web.Response(
            body=item.raw_body,
            headers={"Content-Type": item.content_type or "application/octet-stream"},
        )

    async def get_part(self, request: web.Request) -> web.Response:
        """GET /api/messages/{id}/parts/{index}[?download=1]: one decoded part, inline with its
        content type (sandboxed), or as a download (``application/octet-stream``, never
        rendered)."""
        item = self._item(request)
        raw = request.match_info["index"]
        parts = item.parts
        if not raw.isdigit() or int(raw) >= len(parts):
            raise ApiError(404, f"message {item.id} has no part {raw!r} ({len(parts)} parts)")
        part = parts[int(raw)]
        filename = part.filename or f"part-{raw}"
        # Parts are attacker-controlled: an HTML or SVG part opened directly must not run
        # script on the mock's origin (the inbox only embeds parts as media).
        headers = {"X-Content-Type-Options": "nosniff"}
        if request.query.get("download") in ("1", "true"):
            headers["Content-Type"] = "application/octet-stream"
            headers["Content-Disposition"] = _content_disposition(filename, "attachment")
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        else:
            content_type = part.content_type
            if part.charset:
                content_type += f"; charset={part.charset}"
            headers["Content-Type"] = content_type
            headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:"
            if part.filename:
                headers["Content-Disposition"] = _content_disposition(filename, "inline")
        return web.Response(body=part.data, headers=headers)

    # -- the event stream --------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        """GET /api/events: every store event as a server-sent event.

        Each event is one ``data:`` line of JSON (``{"type": "request"|"report"|"deleted"|
        "cleared"|"overload", ...}``; a request comes as its list :func:`~mockmmsc.views.row`);
        an idle stream gets a ``: ping`` comment every :data:`HEARTBEAT_SECONDS`. The stream
        ends when the client goes away or the server stops.
        """
        if self.streams >= MAX_EVENT_STREAMS:
            raise ApiError(503, f"too many event streams open (limit {MAX_EVENT_STREAMS})")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        self.streams += 1
        try:
            await response.prepare(request)
            await response.write(b"retry: 2000\n: connected\n\n")
            await self._pump(request, response)
        except ConnectionError as exc:
            # the client went away (a reset write, or a write on a closing transport)
            log.debug("event stream closed: %s", exc)
        finally:
            self.streams -= 1
        return response

    def _enrich(self, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("type") == "request":
            message = event.get("message") or {}
            item = self.state.store.get(message.get("id", -1))
            if item is not None:
                return {"type": "request", "message": row(item)}
        return event

    async def _pump(self, request: web.Request, response: web.StreamResponse) -> None:
        stream = cast(AsyncGenerator[dict[str, Any], None], self.state.store.subscribe())
        closing: asyncio.Future[Any] = asyncio.ensure_future(self._closing.wait())
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(stream))
                done, _ = await asyncio.wait(
                    {pending, closing},
                    timeout=HEARTBEAT_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if closing in done:
                    return
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                if pending in done:
                    event = pending.result()
                    pending = None
                    await response.write(_sse(self._enrich(event)))
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

    # -- rules -------------------------------------------------------------------------------

    async def list_rules(self, request: web.Request) -> web.Response:
        """GET /api/rules"""
        return web.json_response({"rules": [r.to_dict() for r in self.state.rules]})

    async def add_rule(self, request: web.Request) -> web.Response:
        """POST /api/rules: one rule object, or a list of them."""
        body = await _json_body(request)
        items = body if isinstance(body, list) else [body]
        for item in items:
            if not isinstance(item, dict):
                raise ApiError(400, f"rule {item!r}: expected a JSON object")
        state = self.state
        ids = [state.add_rule(item) for item in items]
        rules = [state.rules.get(i) for i in ids]
        return web.json_response(
            {"ids": ids, "rules": [r.to_dict() for r in rules if r is not None]}, status=201
        )

    async def delete_rule(self, request: web.Request) -> web.Response:
        """DELETE /api/rules/{id}"""
        rule_id = request.match_info["id"]
        if not self.state.remove_rule(rule_id):
            raise ApiError(404, f"no rule with id {rule_id!r}")
        return web.json_response({"deleted": rule_id})

    async def reset_rules(self, request: web.Request) -> web.Response:
        """DELETE /api/rules (or POST /api/rules/reset)"""
        count = len(self.state.rules)
        self.state.reset_rules()
        return web.json_response({"deleted": count})

    # -- faults ------------------------------------------------------------------------------

    async def list_faults(self, request: web.Request) -> web.Response:
        """GET /api/faults"""
        return web.json_response({"faults": [f.to_dict() for f in self.state.faults]})

    async def add_fault(self, request: web.Request) -> web.Response:
        """POST /api/faults: one fault object (or kind name), or a list of them."""
        body = await _json_body(request)
        items = body if isinstance(body, list) else [body]
        if len(items) > 100:
            raise ApiError(400, f"{len(items)} faults in one request: at most 100")
        faults = [Fault.from_value(item) for item in items]  # all valid before any is added
        ids = [self.state.faults.add(fault) for fault in faults]
        return web.json_response({"ids": ids, "faults": [f.to_dict() for f in faults]}, status=201)

    async def delete_fault(self, request: web.Request) -> web.Response:
        """DELETE /api/faults/{id}"""
        fault_id = request.match_info["id"]
        if not self.state.faults.remove(fault_id):
            raise ApiError(404, f"no fault with id {fault_id!r}")
        return web.json_response({"deleted": fault_id})

    async def reset_faults(self, request: web.Request) -> web.Response:
        """DELETE /api/faults"""
        return web.json_response({"deleted": self.state.faults.reset()})

    # -- throttling --------------------------------------------------------------------------

    def _overload_state(self) -> dict[str, Any]:
        state = self.state
        active = state.overload_windows.active()
        scale = state.settings.time_scale
        return {
            "windows": [
                {"vas_id": k, "seconds_left": round(v, 3), "unscaled_seconds_left": (v / scale)}
                if scale
                else {"vas_id": k, "seconds_left": round(v, 3)}
                for k, v in active.items()
            ],
            "requests_during_overload": state.overload_windows.counts(),
        }

    async def get_overload(self, request: web.Request) -> web.Response:
        """GET /api/overload"""
        return web.json_response(self._overload_state())

    async def post_overload(self, request: web.Request) -> web.Response:
        """POST /api/overload {"seconds": 60, "vas_id": null}"""
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "expected an object {seconds, vas_id}")
        seconds = _number(body.get("seconds", 60), "seconds")
        vas_id = body.get("vas_id")
        if vas_id is not None and not isinstance(vas_id, str):
            raise ApiError(400, f"vas_id={vas_id!r}: expected a string or null")
        self.state.overload(seconds or 0.0, vas_id=vas_id)
        return web.json_response(self._overload_state(), status=201)

    async def delete_overload(self, request: web.Request) -> web.Response:
        """DELETE /api/overload[?vas_id=X]: end a window (every window without vas_id)."""
        vas_id = request.query.get("vas_id")
        self.state.end_overload(vas_id, everything=vas_id is None)
        return web.json_response(self._overload_state())

    def _tps_state(self) -> dict[str, Any]:
        tps = self.state.tps
        return {
            "default_tps": tps.default_tps,
            "contracts": tps.contracts(),
            "refused": dict(tps.refused),
        }

    async def get_tps(self, request: web.Request) -> web.Response:
        """GET /api/tps"""
        return web.json_response(self._tps_state())

    async def put_tps(self, request: web.Request) -> web.Response:
        """PUT or POST /api/tps {"vas_id": "X", "tps": 10} (tps null = unlimited)"""
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("vas_id"), str):
            raise ApiError(400, "expected an object {vas_id: string, tps: number|null}")
        tps = _number(body.get("tps"), "tps", allow_none=True)
        if tps == 0:
            raise ApiError(400, "tps=0: must be > 0 (null for unlimited)")
        self.state.set_tps(body["vas_id"], tps)
        return web.json_response(self._tps_state())

    async def get_traffic(self, request: web.Request) -> web.Response:
        """GET /api/traffic?seconds=300&vas_id=X: requests per second per VASID over the last
        ``seconds`` (accepted / 7103 / 4030 / other), each VASID's contracted TPS and the 4030
        windows, for the inbox's traffic view (:mod:`mockmmsc.traffic`)."""
        state = self.state
        meter = state.traffic
        seconds = int_param(request.query, "seconds", min(300, meter.seconds), meter.seconds)
        vas_id = request.query.get("vas_id")
        snapshot = meter.snapshot(
            state.clock.now(), max(1, seconds), None if vas_id is None else [vas_id]
        )
        return web.json_response(
            snapshot.to_dict(state.tps.tps_of, at=state.wall_clock(), capacity=meter.seconds)
        )

    # -- reports -----------------------------------------------------------------------------

    async def list_reports(self, request: web.Request) -> web.Response:
        """GET /api/reports?pending=1&message_id=X&limit&offset"""
        limit = int_param(request.query, "limit", 100, MAX_LIMIT)
        offset = int_param(request.query, "offset", 0, 10**9)
        reports = list(self.state.store.reports)
        if request.query.get("pending") in ("1", "true"):
            reports = [r for r in reports if r.pending]
        message_id = request.query.get("message_id")
        if message_id:
            reports = [r for r in reports if r.message_id == message_id]
        reports.reverse()
        return web.json_response(
            {
                "total": len(reports),
                "offset": offset,
                "reports": [r.to_dict() for r in reports[offset : offset + limit]],
            }
        )

    async def retry_reports(self, request: web.Request) -> web.Response:
        """POST /api/reports/retry: send every pending report now."""
        return web.json_response({"retried": self.reports.retry_now()})

    async def put_report_url(self, request: web.Request) -> web.Response:
        """PUT /api/report-urls {"vas_id": "X", "url": "http://..."} (url null = default)"""
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("vas_id"), str):
            raise ApiError(400, "expected an object {vas_id: string, url: string|null}")
        url = body.get("url")
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            raise ApiError(400, f"url={url!r}: expected an http(s) URL or null")
        self.state.set_report_url(body["vas_id"], url)
        return web.json_response({"report_urls": self.state.report_urls})

    async def get_report_urls(self, request: web.Request) -> web.Response:
        """GET /api/report-urls"""
        state = self.state
        return web.json_response(
            {"default": state.settings.report_url, "report_urls": state.report_urls}
        )
