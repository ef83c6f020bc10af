"""Admin JSON API under ``/api/`` (described by ``GET /api/openapi.json``).

Errors are JSON ``{"error": "..."}`` with a 4xx status that says what was wrong with the input.
Request bodies are limited to :data:`MAX_ADMIN_BODY` bytes and :data:`MAX_JSON_DEPTH` levels of
nesting; ``NaN`` and ``Infinity`` are refused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mm7client.server import BodyPolicy
from mm7client.server_aiohttp import RequestRefused, read_body
from mockmmsc.faults import FAULT_KINDS, Fault
from mockmmsc.settings import SettingsError

if TYPE_CHECKING:
    from mockmmsc.app import MockMMSC

__all__ = ["MAX_ADMIN_BODY", "MAX_JSON_DEPTH", "OPENAPI", "setup"]

#: Largest JSON body accepted by the admin API.
MAX_ADMIN_BODY = 256 * 1024
_ADMIN_BODY = BodyPolicy(MAX_ADMIN_BODY)
#: Deepest nesting of arrays and objects accepted in a JSON body.
MAX_JSON_DEPTH = 32
_MAX_LIMIT = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A 4xx answer with a JSON error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _mock(request: web.Request) -> MockMMSC:
    from mockmmsc.app import MOCK_KEY

    return request.app[MOCK_KEY]


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
        except SettingsError as exc:
            return _error(400, str(exc))
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise

    return wrapped


async def _json_body(request: web.Request) -> Any:
    try:
        data = await read_body(request, _ADMIN_BODY)
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
        return json.loads(data, parse_constant=_refuse_constant)
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


def _int_param(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name}={raw!r}: expected an integer") from None
    if value < 0 or value > maximum:
        raise ApiError(400, f"{name}={value}: expected 0..{maximum}")
    return value


def _message_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"message id {raw!r}: expected an integer") from None


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


# -- messages -------------------------------------------------------------------------------


async def list_messages(request: web.Request) -> web.Response:
    """GET /api/messages?limit&offset&operation&vas_id&recipient&status_code"""
    mock = _mock(request)
    limit = _int_param(request, "limit", 100, _MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 10**9)
    status = request.query.get("status_code")
    items = mock.received(
        operation=request.query.get("operation"),
        recipient=request.query.get("recipient"),
        vas_id=request.query.get("vas_id"),
        status_code=int(status) if status and status.isdigit() else None,
    )
    items.reverse()  # newest first
    page = items[offset : offset + limit]
    return web.json_response(
        {"total": len(items), "offset": offset, "messages": [m.summary() for m in page]}
    )


def _get_message(request: web.Request) -> Any:
    mock = _mock(request)
    request_id = _message_id(request)
    item = mock.store.get(request_id)
    if item is None:
        raise ApiError(404, f"no message with id {request_id}")
    return item


async def get_message(request: web.Request) -> web.Response:
    """GET /api/messages/{id}"""
    return web.json_response(_get_message(request).to_dict())


async def delete_message(request: web.Request) -> web.Response:
    """DELETE /api/messages/{id}"""
    request_id = _message_id(request)
    if not _mock(request).store.delete(request_id):
        raise ApiError(404, f"no message with id {request_id}")
    return web.json_response({"deleted": request_id})


async def delete_messages(request: web.Request) -> web.Response:
    """DELETE /api/messages"""
    return web.json_response({"deleted": _mock(request).store.clear()})


async def get_raw(request: web.Request) -> web.Response:
    """GET /api/messages/{id}/raw: the request body as received."""
    item = _get_message(request)
    return web.Response(
        body=item.raw_body,
        headers={"Content-Type": item.content_type or "application/octet-stream"},
    )


async def get_part(request: web.Request) -> web.Response:
    """GET /api/messages/{id}/parts/{index}: one decoded part with its content type."""
    item = _get_message(request)
    raw = request.match_info["index"]
    if not raw.isdigit() or int(raw) >= len(item.parts):
        raise ApiError(404, f"message {item.id} has no part {raw!r} ({len(item.parts)} parts)")
    part = item.parts[int(raw)]
    content_type = part.content_type
    if part.charset:
        content_type += f"; charset={part.charset}"
    # Parts are attacker-controlled: an HTML or SVG part opened directly must not run script
    # on the mock's origin (the inbox only embeds parts as media).
    headers = {
        "Content-Type": content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:",
    }
    if part.filename:
        safe = "".join(c for c in part.filename if c.isalnum() or c in "._-") or "part"
        headers["Content-Disposition"] = f'inline; filename="{safe}"'
    return web.Response(body=part.data, headers=headers)


# -- rules ----------------------------------------------------------------------------------


async def list_rules(request: web.Request) -> web.Response:
    """GET /api/rules"""
    return web.json_response({"rules": [r.to_dict() for r in _mock(request).rules]})


async def add_rule(request: web.Request) -> web.Response:
    """POST /api/rules: one rule object, or a list of them."""
    body = await _json_body(request)
    mock = _mock(request)
    items = body if isinstance(body, list) else [body]
    ids = [mock.add_rule(item) for item in items if isinstance(item, dict) or _bad_rule(item)]
    rules = [mock.rules.get(i) for i in ids]
    return web.json_response(
        {"ids": ids, "rules": [r.to_dict() for r in rules if r is not None]}, status=201
    )


def _bad_rule(item: Any) -> bool:
    raise ApiError(400, f"rule {item!r}: expected a JSON object")


async def delete_rule(request: web.Request) -> web.Response:
    """DELETE /api/rules/{id}"""
    rule_id = request.match_info["id"]
    if not _mock(request).remove_rule(rule_id):
        raise ApiError(404, f"no rule with id {rule_id!r}")
    return web.json_response({"deleted": rule_id})


async def reset_rules(request: web.Request) -> web.Response:
    """DELETE /api/rules (or POST /api/rules/reset)"""
    mock = _mock(request)
    count = len(mock.rules)
    mock.reset_rules()
    return web.json_response({"deleted": count})


# -- faults ---------------------------------------------------------------------------------


def _fault_book(request: web.Request) -> Any:
    endpoint = _mock(request).endpoint
    if endpoint is None:  # pragma: no cover - set when the app is built
        raise ApiError(503, "the MM7 endpoint is not ready")
    return endpoint.faults


async def list_faults(request: web.Request) -> web.Response:
    """GET /api/faults"""
    return web.json_response({"faults": [f.to_dict() for f in _fault_book(request)]})


async def add_fault(request: web.Request) -> web.Response:
    """POST /api/faults: one fault object (or kind name), or a list of them."""
    body = await _json_body(request)
    items = body if isinstance(body, list) else [body]
    if len(items) > 100:
        raise ApiError(400, f"{len(items)} faults in one request: at most 100")
    faults = [Fault.from_value(item) for item in items]  # all valid before any is added
    book = _fault_book(request)
    ids = [book.add(fault) for fault in faults]
    return web.json_response({"ids": ids, "faults": [f.to_dict() for f in faults]}, status=201)


async def delete_fault(request: web.Request) -> web.Response:
    """DELETE /api/faults/{id}"""
    fault_id = request.match_info["id"]
    if not _fault_book(request).remove(fault_id):
        raise ApiError(404, f"no fault with id {fault_id!r}")
    return web.json_response({"deleted": fault_id})


async def reset_faults(request: web.Request) -> web.Response:
    """DELETE /api/faults"""
    return web.json_response({"deleted": _fault_book(request).reset()})


async def _release_holds(app: web.Application) -> None:
    """On shutdown: end every connection a ``no_answer`` fault holds."""
    from mockmmsc.app import MOCK_KEY

    endpoint = app[MOCK_KEY].endpoint
    if endpoint is not None:
        endpoint.holds.release_all()


# -- throttling -----------------------------------------------------------------------------


def _overload_state(mock: MockMMSC) -> dict[str, Any]:
    active = mock.overload_windows.active()
    scale = mock.settings.time_scale
    return {
        "windows": [
            {"vas_id": k, "seconds_left": round(v, 3), "unscaled_seconds_left": (v / scale)}
            if scale
            else {"vas_id": k, "seconds_left": round(v, 3)}
            for k, v in active.items()
        ],
        "requests_during_overload": mock.overload_windows.counts(),
    }


async def get_overload(request: web.Request) -> web.Response:
    """GET /api/overload"""
    return web.json_response(_overload_state(_mock(request)))


async def post_overload(request: web.Request) -> web.Response:
    """POST /api/overload {"seconds": 60, "vas_id": null}"""
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "expected an object {seconds, vas_id}")
    seconds = _number(body.get("seconds", 60), "seconds")
    vas_id = body.get("vas_id")
    if vas_id is not None and not isinstance(vas_id, str):
        raise ApiError(400, f"vas_id={vas_id!r}: expected a string or null")
    mock = _mock(request)
    mock.overload(seconds or 0.0, vas_id=vas_id)
    return web.json_response(_overload_state(mock), status=201)


async def delete_overload(request: web.Request) -> web.Response:
    """DELETE /api/overload[?vas_id=X]: end a window (every window without vas_id)."""
    mock = _mock(request)
    vas_id = request.query.get("vas_id")
    mock.end_overload(vas_id, everything=vas_id is None)
    return web.json_response(_overload_state(mock))


def _tps_state(mock: MockMMSC) -> dict[str, Any]:
    return {
        "default_tps": mock.tps.default_tps,
        "contracts": mock.tps.contracts(),
        "refused": dict(mock.tps.refused),
    }


async def get_tps(request: web.Request) -> web.Response:
    """GET /api/tps"""
    return web.json_response(_tps_state(_mock(request)))


async def put_tps(request: web.Request) -> web.Response:
    """PUT or POST /api/tps {"vas_id": "X", "tps": 10} (tps null = unlimited)"""
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("vas_id"), str):
        raise ApiError(400, "expected an object {vas_id: string, tps: number|null}")
    tps = _number(body.get("tps"), "tps", allow_none=True)
    if tps == 0:
        raise ApiError(400, "tps=0: must be > 0 (null for unlimited)")
    mock = _mock(request)
    mock.set_tps(body["vas_id"], tps)
    return web.json_response(_tps_state(mock))


# -- reports --------------------------------------------------------------------------------


async def list_reports(request: web.Request) -> web.Response:
    """GET /api/reports?pending=1&message_id=X&limit&offset"""
    mock = _mock(request)
    limit = _int_param(request, "limit", 100, _MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 10**9)
    reports = list(mock.store.reports)
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


async def retry_reports(request: web.Request) -> web.Response:
    """POST /api/reports/retry: send every pending report now."""
    return web.json_response({"retried": _mock(request).reports.retry_now()})


async def put_report_url(request: web.Request) -> web.Response:
    """PUT /api/report-urls {"vas_id": "X", "url": "http://..."} (url null = default)"""
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("vas_id"), str):
        raise ApiError(400, "expected an object {vas_id: string, url: string|null}")
    url = body.get("url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise ApiError(400, f"url={url!r}: expected an http(s) URL or null")
    mock = _mock(request)
    mock.set_report_url(body["vas_id"], url)
    return web.json_response({"report_urls": mock.report_urls})


async def get_report_urls(request: web.Request) -> web.Response:
    """GET /api/report-urls"""
    mock = _mock(request)
    return web.json_response({"default": mock.settings.report_url, "report_urls": mock.report_urls})


async def openapi(request: web.Request) -> web.Response:
    """GET /api/openapi.json"""
    return web.json_response(OPENAPI)


async def not_found(request: web.Request) -> web.Response:
    """Any other /api/ path."""
    raise ApiError(404, f"no admin endpoint {request.method} {request.path}")


def setup(app: web.Application) -> None:
    """Add the admin routes to ``app``."""
    app.on_shutdown.append(_release_holds)
    r = app.router
    r.add_get("/api/openapi.json", _json_errors(openapi))
    r.add_get("/api/messages", _json_errors(list_messages))
    r.add_delete("/api/messages", _json_errors(delete_messages))
    r.add_get("/api/messages/{id}", _json_errors(get_message))
    r.add_delete("/api/messages/{id}", _json_errors(delete_message))
    r.add_get("/api/messages/{id}/raw", _json_errors(get_raw))
    r.add_get("/api/messages/{id}/parts/{index}", _json_errors(get_part))
    r.add_get("/api/rules", _json_errors(list_rules))
    r.add_post("/api/rules", _json_errors(add_rule))
    r.add_delete("/api/rules", _json_errors(reset_rules))
    r.add_post("/api/rules/reset", _json_errors(reset_rules))
    r.add_delete("/api/rules/{id}", _json_errors(delete_rule))
    r.add_get("/api/overload", _json_errors(get_overload))
    r.add_post("/api/overload", _json_errors(post_overload))
    r.add_delete("/api/overload", _json_errors(delete_overload))
    r.add_get("/api/tps", _json_errors(get_tps))
    r.add_put("/api/tps", _json_errors(put_tps))
    r.add_post("/api/tps", _json_errors(put_tps))
    r.add_get("/api/reports", _json_errors(list_reports))
    r.add_post("/api/reports/retry", _json_errors(retry_reports))
    r.add_get("/api/report-urls", _json_errors(get_report_urls))
    r.add_put("/api/report-urls", _json_errors(put_report_url))
    r.add_get("/api/faults", _json_errors(list_faults))
    r.add_post("/api/faults", _json_errors(add_fault))
    r.add_delete("/api/faults", _json_errors(reset_faults))
    r.add_delete("/api/faults/{id}", _json_errors(delete_fault))
    r.add_route("*", "/api/{tail:.*}", _json_errors(not_found))


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


_ERROR = _json("bad input", {"$ref": "#/components/schemas/Error"})
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": _MAX_LIMIT}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
]
_RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "recipient": {"type": "string", "description": "exact number, 're:REGEX' or a glob"},
        "vas_id": {"type": "string"},
        "subject": {"type": "string", "description": "exact, 're:REGEX' or a glob"},
        "content_type": {"type": "string", "description": "any content part, e.g. image/*"},
        "operation": {"type": "string", "default": "SubmitReq"},
        "status": {"type": "integer", "minimum": 1000, "maximum": 9999},
        "status_text": {"type": "string"},
        "delay": {"type": "number", "minimum": 0},
        "report_status": {"type": "string", "example": "Expired"},
        "report_status_text": {"type": "string", "example": "NOK"},
        "report_delay": {"type": "number", "minimum": 0},
        "no_report": {"type": "boolean"},
        "overload": {"type": "boolean"},
        "overload_seconds": {"type": "number", "minimum": 0},
        "http_status": {"type": "integer"},
        "times": {"type": "integer", "minimum": 0, "description": "first N matching requests"},
        "then": {"type": "array", "items": {"type": "object"}, "description": "next steps"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "fault": {
            "description": "fault(s) injected into this rule's answers or reports",
            "oneOf": [
                {"type": "string", "enum": list(FAULT_KINDS)},
                {"$ref": "#/components/schemas/Fault"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}},
            ],
        },
    },
}
_FAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "enum": list(FAULT_KINDS)},
        "id": {"type": "string"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "times": {"type": ["integer", "null"], "minimum": 0, "description": "first N requests"},
        "operation": {"type": "string", "default": "*"},
        "vas_id": {"type": ["string", "null"]},
        "delay": {"type": "number", "minimum": 0, "description": "seconds (scaled)"},
        "delay_max": {"type": ["number", "null"], "description": "random delay up to this"},
        "http_status": {"type": ["integer", "null"]},
        "status": {"type": ["integer", "null"], "minimum": 1000, "maximum": 9999},
        "hold": {"type": ["number", "null"], "description": "no_answer: real seconds"},
        "chunk_size": {"type": "integer", "minimum": 1},
        "chunk_interval": {"type": "number", "minimum": 0},
    },
}

#: The OpenAPI 3.1 description served at ``/api/openapi.json``.
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "mockmmsc admin API",
        "version": "1",
        "description": "What the LG U+-like mock MMSC received, and how it behaves.",
    },
    "paths": {
        "/api/messages": {
            "get": {
                "summary": "Received requests, newest first",
                "parameters": [
                    *_PAGE,
                    *(
                        {"name": n, "in": "query", "schema": {"type": "string"}}
                        for n in ("operation", "vas_id", "recipient", "status_code")
                    ),
                ],
                "responses": {"200": _json("a page of messages"), "400": _ERROR},
            },
            "delete": {"summary": "Forget every message", "responses": {"200": _json("count")}},
        },
        "/api/messages/{id}": {
            "get": {
                "summary": "One request: fields, parts, answer, reports",
                "parameters": [_ID],
                "responses": {"200": _json("the message"), "404": _ERROR},
            },
            "delete": {
                "summary": "Forget one message",
                "parameters": [_ID],
                "responses": {"200": _json("deleted"), "404": _ERROR},
            },
        },
        "/api/messages/{id}/raw": {
            "get": {
                "summary": "The raw request body with its Content-Type",
                "parameters": [_ID],
                "responses": {"200": {"description": "the body"}, "404": _ERROR},
            }
        },
        "/api/messages/{id}/parts/{index}": {
            "get": {
                "summary": "One decoded content part's bytes with its content type",
                "parameters": [
                    _ID,
                    {
                        "name": "index",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {"200": {"description": "the part"}, "404": _ERROR},
            }
        },
        "/api/rules": {
            "get": {"summary": "Rules in order", "responses": {"200": _json("rules")}},
            "post": {
                "summary": "Add a rule (or a list of rules)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Rule"}}
                    },
                },
                "responses": {"201": _json("ids of the new rules"), "400": _ERROR, "413": _ERROR},
            },
            "delete": {"summary": "Remove every rule", "responses": {"200": _json("count")}},
        },
        "/api/rules/reset": {
            "post": {"summary": "Remove every rule", "responses": {"200": _json("count")}}
        },
        "/api/rules/{id}": {
            "delete": {
                "summary": "Remove one rule",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json("deleted"), "404": _ERROR},
            }
        },
        "/api/overload": {
            "get": {"summary": "Open 4030 windows", "responses": {"200": _json("windows")}},
            "post": {
                "summary": "Open a 4030 window (seconds are scaled by the time scale)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "seconds": {"type": "number", "minimum": 0},
                                    "vas_id": {"type": ["string", "null"]},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": _json("windows"), "400": _ERROR},
            },
            "delete": {
                "summary": "Close a window (?vas_id=X) or every window",
                "responses": {"200": _json("windows")},
            },
        },
        "/api/tps": {
            "get": {"summary": "TPS contracts", "responses": {"200": _json("contracts")}},
            "put": {
                "summary": "Set a VASID's contracted TPS (null: unlimited)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["vas_id"],
                                "properties": {
                                    "vas_id": {"type": "string"},
                                    "tps": {"type": ["number", "null"], "exclusiveMinimum": 0},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json("contracts"), "400": _ERROR},
            },
        },
        "/api/reports": {
            "get": {
                "summary": "Delivery reports, newest first",
                "parameters": [
                    *_PAGE,
                    {"name": "pending", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "message_id", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _json("reports"), "400": _ERROR},
            }
        },
        "/api/reports/retry": {
            "post": {
                "summary": "Send every pending report now",
                "responses": {"200": _json("count")},
            }
        },
        "/api/faults": {
            "get": {"summary": "Global faults in order", "responses": {"200": _json("faults")}},
            "post": {
                "summary": "Add a global fault (or a list of faults)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Fault"}}
                    },
                },
                "responses": {"201": _json("ids of the new faults"), "400": _ERROR},
            },
            "delete": {"summary": "Remove every global fault", "responses": {"200": _json("n")}},
        },
        "/api/faults/{id}": {
            "delete": {
                "summary": "Remove one global fault",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json("deleted"), "404": _ERROR},
            }
        },
        "/api/report-urls": {
            "get": {"summary": "Report URLs", "responses": {"200": _json("urls")}},
            "put": {
                "summary": "Set a VASID's report URL",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": _json("urls"), "400": _ERROR},
            },
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
            },
            "Rule": _RULE_SCHEMA,
            "Fault": _FAULT_SCHEMA,
        }
    },
}
