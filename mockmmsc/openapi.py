"""The OpenAPI 3.1 document of the mock's JSON API, served at ``GET /api/openapi.json``, and
the check of the API's input against it.

The document is the truth: every handler's path and query parameters and JSON body are checked
against it (:func:`check_parameters`, :func:`check_value`) before the handler runs, and what
it refuses is answered 400 naming the field. A method a path lacks is answered 405 with
``Allow``. Pure: no aiohttp here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockmmsc.faults import FAULT_KINDS, HTTP_ERROR_STATUSES
from mockmmsc.traffic import DEFAULT_SECONDS, SERIES
from mockmmsc.views import MAX_LIMIT

__all__ = ["OPENAPI", "SchemaError", "body_schema", "check_parameters", "check_value"]


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _query(name: str, description: str, kind: str = "string", **bounds: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": kind, **bounds},
    }


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": "#/components/schemas/Error"})


_ERROR = _error("bad input: the error names the field")
_NOT_FOUND = _error("no such item")
_TOO_LARGE = _error("body over the size limit")
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
}
_CONFLICT = _error("an id already taken, or the book is full")
_STRING_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGE = [
    _query("limit", "page size", "integer", minimum=0, maximum=MAX_LIMIT),
    _query("offset", "rows skipped", "integer", minimum=0, maximum=10**9),
]


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_HTTP_STATUS = {"type": "integer", "minimum": 200, "maximum": 599}
_STATUS = {"type": "integer", "minimum": 1000, "maximum": 9999}
#: longest window or delay the API takes (a year, in seconds)
_MAX_SECONDS = 365 * 24 * 3600
_KIND = {"type": "string", "enum": list(FAULT_KINDS)}
_RULE_KIND = {"type": "string", "enum": [k for k in FAULT_KINDS if k != "reset_before_body"]}
#: the fields of one step of a rule's sequence (``then``): what it answers, not what it matches
_STEP_FIELDS = (
    "delay",
    "fault",
    "http_status",
    "no_report",
    "overload",
    "overload_seconds",
    "report_delay",
    "report_status",
    "report_status_text",
    "status",
    "status_text",
    "times",
)
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
        "status": _STATUS,
        "status_text": {"type": "string"},
        "delay": {"type": "number", "minimum": 0, "maximum": _MAX_SECONDS},
        "report_status": {"type": "string", "example": "Expired"},
        "report_status_text": {"type": "string", "example": "NOK"},
        "report_delay": {"type": "number", "minimum": 0, "maximum": _MAX_SECONDS},
        "no_report": {"type": "boolean"},
        "overload": {"type": "boolean"},
        "overload_seconds": {"type": "number", "minimum": 0, "maximum": _MAX_SECONDS},
        "http_status": _HTTP_STATUS,
        "times": {"type": "integer", "minimum": 0, "description": "first N matching requests"},
        "then": {
            "type": "array",
            "maxItems": 100,
            "items": {"$ref": "#/components/schemas/RuleStep"},
            "description": "next steps",
        },
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "fault": {
            "description": "fault(s) injected into this rule's answers or reports: any kind "
            "but reset_before_body, which acts before a rule is chosen (make it a global fault)",
            "oneOf": [
                _RULE_KIND,
                {"$ref": "#/components/schemas/RuleFault"},
                {
                    "type": "array",
                    "maxItems": 100,
                    "items": {"oneOf": [_RULE_KIND, {"$ref": "#/components/schemas/RuleFault"}]},
                },
            ],
        },
    },
}
_FAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    # an http_error answers as a load balancer does: 500, 502 or 503 only
    "if": {"properties": {"kind": {"const": "http_error"}}, "required": ["kind"]},
    "then": {"properties": {"http_status": {"enum": [*HTTP_ERROR_STATUSES, None]}}},
    "properties": {
        "kind": _KIND,
        "id": {"type": "string"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "times": {"type": ["integer", "null"], "minimum": 0, "description": "first N requests"},
        "operation": {"type": "string", "default": "*"},
        "vas_id": {"type": ["string", "null"]},
        "delay": {
            "type": "number",
            "minimum": 0,
            "maximum": _MAX_SECONDS,
            "description": "seconds (scaled)",
        },
        "delay_max": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": _MAX_SECONDS,
            "description": "random delay up to this",
        },
        "http_status": {"type": ["integer", "null"], "minimum": 400, "maximum": 599},
        "status": {**_STATUS, "type": ["integer", "null"]},
        "hold": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": _MAX_SECONDS,
            "description": "no_answer: real seconds",
        },
        "chunk_size": {"type": "integer", "minimum": 1, "maximum": 1024 * 1024},
        "chunk_interval": {"type": "number", "minimum": 0, "maximum": 60},
    },
}

_COUNTS: dict[str, Any] = {"type": "array", "items": {"type": "integer", "minimum": 0}}
_TRAFFIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["seconds", "elapsed", "series", "traffic", "windows"],
    "properties": {
        "seconds": {"type": "integer", "description": "buckets per series"},
        "capacity": {"type": "integer", "description": "the longest span kept"},
        "elapsed": {"type": "number", "description": "seconds into the last bucket"},
        "at": {"type": "number", "description": "the mock's wall clock (epoch seconds)"},
        "series": {"type": "array", "items": {"enum": list(SERIES)}},
        "traffic": {
            "type": "array",
            "description": "one entry per VASID with requests or a window of its own in the "
            "span, by VASID (null: requests that named none)",
            "items": {
                "type": "object",
                "properties": {
                    "vas_id": {"type": ["string", "null"]},
                    "tps": {
                        "type": ["number", "null"],
                        "description": "the contracted TPS (null: unlimited)",
                    },
                    "counts": {
                        "type": "object",
                        "description": "per series, requests per second, oldest first",
                        "properties": {name: _COUNTS for name in SERIES},
                    },
                    "totals": {
                        "type": "object",
                        "properties": {name: {"type": "integer"} for name in SERIES},
                    },
                    "peak": {"type": "integer", "description": "the busiest second's requests"},
                },
            },
        },
        "windows": {
            "type": "array",
            "description": "4030 windows overlapping the span (to > elapsed: still open)",
            "items": {
                "type": "object",
                "properties": {
                    "vas_id": {"type": ["string", "null"], "description": "null: every VASID"},
                    "from": {"type": "number"},
                    "to": {"type": "number"},
                },
            },
        },
        "forgotten_vas_ids": {
            "type": "integer",
            "description": "VASIDs dropped to stay within the bound",
        },
    },
}

#: The OpenAPI 3.1 description served at ``/api/openapi.json``.
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "mockmmsc API",
        "version": "1",
        "description": "What the LG U+-like mock MMSC received, and how it behaves.",
    },
    "paths": {
        "/api/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": _json("OpenAPI 3.1")}}
        },
        "/api/info": {
            "get": {
                "summary": "The mock: carrier profile, answer form, time scale, MM7 path, "
                "messages stored",
                "responses": {"200": _json("info")},
            }
        },
        "/api/events": {
            "get": {
                "summary": "Everything that happens, live (server-sent events)",
                "description": (
                    "One `data:` line of JSON per event: `request` (with the message's list "
                    "row), `report`, `deleted`, `cleared` or `overload`; an idle stream gets a "
                    "`: ping` comment. Beyond a bounded number of open streams: 503."
                ),
                "responses": {
                    "200": {
                        "description": "the event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "503": _error("too many event streams open"),
                },
            }
        },
        "/api/messages": {
            "get": {
                "summary": "Received requests matching every filter given, newest first",
                "parameters": [
                    *_PAGE,
                    _query(
                        "q",
                        "words, each found in the subject, VASID, sender, MessageID, "
                        "TransactionID, operation, status code or a recipient (any case)",
                    ),
                    _query("recipient", "text found in one of the recipients"),
                    _query("vas_id", "text found in the VASID (any case)"),
                    _query("operation", "the operation exactly, e.g. SubmitReq"),
                    _query(
                        "status_code",
                        "the MM7 status answered, e.g. 4030",
                        "integer",
                        minimum=0,
                        maximum=99999,
                    ),
                    _query("since", "received at or after (ISO 8601 or epoch seconds)"),
                    _query("until", "received at or before (ISO 8601 or epoch seconds)"),
                    _query(
                        "before_id",
                        "a cursor: only messages that arrived before the one with this id "
                        "(the last row's id pages back steadily while new ones arrive)",
                        "integer",
                        minimum=0,
                        maximum=10**18,
                    ),
                ],
                "responses": {
                    "200": _json("a page of messages", {"$ref": "#/components/schemas/Page"}),
                    "400": _ERROR,
                },
            },
            "delete": {"summary": "Forget every message", "responses": {"200": _json("count")}},
        },
        "/api/messages/{id}": {
            "get": {
                "summary": "One request: fields, parts, answer, reports",
                "parameters": [_ID],
                "responses": {"200": _json("the message"), "400": _ERROR, "404": _NOT_FOUND},
            },
            "delete": {
                "summary": "Forget one message",
                "parameters": [_ID],
                "responses": {"200": _json("deleted"), "400": _ERROR, "404": _NOT_FOUND},
            },
        },
        "/api/messages/{id}/raw": {
            "get": {
                "summary": "The raw request body with its Content-Type",
                "parameters": [_ID],
                "responses": {
                    "200": {"description": "the body"},
                    "400": _ERROR,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/api/messages/{id}/parts/{index}": {
            "get": {
                "summary": "One decoded content part: inline with its content type (sandboxed), "
                "or with download=true as an attachment that is never rendered",
                "parameters": [
                    _ID,
                    {
                        "name": "index",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                    },
                    _query(
                        "download", "true: as application/octet-stream, an attachment", "boolean"
                    ),
                ],
                "responses": {
                    "200": {"description": "the part"},
                    "400": _ERROR,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/api/rules": {
            "get": {"summary": "Rules in order", "responses": {"200": _json("rules")}},
            "post": {
                "summary": "Add a rule (or a list of at most 100 rules)",
                "requestBody": _body(
                    {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Rule"},
                            {
                                "type": "array",
                                "maxItems": 100,
                                "items": {"$ref": "#/components/schemas/Rule"},
                            },
                        ]
                    }
                ),
                "responses": {
                    "201": _json("ids of the new rules"),
                    "400": _ERROR,
                    "409": _CONFLICT,
                    "413": _TOO_LARGE,
                },
            },
            "delete": {"summary": "Remove every rule", "responses": {"200": _json("count")}},
        },
        "/api/rules/reset": {
            "post": {"summary": "Remove every rule", "responses": {"200": _json("count")}}
        },
        "/api/rules/{id}": {
            "delete": {
                "summary": "Remove one rule",
                "parameters": [_STRING_ID],
                "responses": {"200": _json("deleted"), "404": _NOT_FOUND},
            }
        },
        "/api/overload": {
            "get": {"summary": "Open 4030 windows", "responses": {"200": _json("windows")}},
            "post": {
                "summary": "Open a 4030 window (seconds are scaled by the time scale)",
                "requestBody": _body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "seconds": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": _MAX_SECONDS,
                                "default": 60,
                            },
                            "vas_id": {"type": ["string", "null"]},
                        },
                    }
                ),
                "responses": {"201": _json("windows"), "400": _ERROR, "413": _TOO_LARGE},
            },
            "delete": {
                "summary": "Close a window (?vas_id=X) or every window",
                "parameters": [_query("vas_id", "the VASID whose window closes")],
                "responses": {"200": _json("windows")},
            },
        },
        "/api/tps": {
            "get": {"summary": "TPS contracts", "responses": {"200": _json("contracts")}},
            "put": {
                "summary": "Set a VASID's contracted TPS (null: unlimited)",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["vas_id"],
                        "additionalProperties": False,
                        "properties": {
                            "vas_id": {"type": "string"},
                            "tps": {
                                "type": ["number", "null"],
                                "exclusiveMinimum": 0,
                                "maximum": 1_000_000,
                            },
                        },
                    }
                ),
                "responses": {"200": _json("contracts"), "400": _ERROR, "413": _TOO_LARGE},
            },
        },
        "/api/reports": {
            "get": {
                "summary": "Delivery reports, newest first",
                "parameters": [
                    *_PAGE,
                    _query("pending", "true: only the reports still being sent", "boolean"),
                    _query("message_id", "only the reports of this MessageID"),
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
                "summary": "Add a global fault (its kind, or an object), or a list of at most "
                "100 of them",
                "requestBody": _body(
                    {
                        "oneOf": [
                            _KIND,
                            {"$ref": "#/components/schemas/Fault"},
                            {
                                "type": "array",
                                "maxItems": 100,
                                "items": {"oneOf": [_KIND, {"$ref": "#/components/schemas/Fault"}]},
                            },
                        ]
                    }
                ),
                "responses": {
                    "201": _json("ids of the new faults"),
                    "400": _ERROR,
                    "409": _CONFLICT,
                    "413": _TOO_LARGE,
                },
            },
            "delete": {"summary": "Remove every global fault", "responses": {"200": _json("n")}},
        },
        "/api/faults/{id}": {
            "delete": {
                "summary": "Remove one global fault",
                "parameters": [_STRING_ID],
                "responses": {"200": _json("deleted"), "404": _NOT_FOUND},
            }
        },
        "/api/traffic": {
            "get": {
                "summary": "Requests per second per VASID over the last minutes",
                "description": (
                    "Per VASID, the requests answered in each second of the span, split "
                    "accepted (1xxx) / 7103 / 4030 / other, with the VASID's contracted TPS; "
                    "and the 4030 windows overlapping the span. Times are seconds relative "
                    "to the start of the current second: bucket i covers "
                    "[i - seconds + 1, i - seconds + 2). The mock keeps a bounded ring of "
                    "per-second counters per VASID (at most `capacity` seconds, a bounded "
                    "number of VASIDs: the one idle the longest is forgotten first)."
                ),
                "parameters": [
                    {
                        "name": "seconds",
                        "in": "query",
                        "description": "the span (default 300, at most capacity)",
                        "schema": {"type": "integer", "minimum": 1, "maximum": DEFAULT_SECONDS},
                    },
                    _query("vas_id", "only this VASID"),
                ],
                "responses": {
                    "200": _json("traffic", {"$ref": "#/components/schemas/Traffic"}),
                    "400": _ERROR,
                },
            }
        },
        "/api/report-urls": {
            "get": {"summary": "Report URLs", "responses": {"200": _json("urls")}},
            "put": {
                "summary": "Set a VASID's report URL (null: back to the default)",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["vas_id"],
                        "additionalProperties": False,
                        "properties": {
                            "vas_id": {"type": "string"},
                            "url": {"type": ["string", "null"], "pattern": "^https?://"},
                        },
                    }
                ),
                "responses": {"200": _json("urls"), "400": _ERROR, "413": _TOO_LARGE},
            },
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "status"],
                "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
            },
            "Page": {
                "type": "object",
                "properties": {
                    "total": {"type": "integer", "description": "messages matching the filters"},
                    "stored": {"type": "integer", "description": "messages kept in all"},
                    "offset": {"type": "integer"},
                    "newer": {
                        "type": "integer",
                        "description": "matching messages skipped by before_id (0 without)",
                    },
                    "messages": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "rows: the summary, sender, normalized status meaning "
                        "and delivery-report state",
                    },
                },
            },
            "Traffic": _TRAFFIC_SCHEMA,
            "Rule": _RULE_SCHEMA,
            "Fault": _FAULT_SCHEMA,
            "RuleStep": {
                "type": "object",
                "additionalProperties": False,
                "description": "one step of a rule's sequence: what it answers",
                "properties": {
                    name: schema
                    for name, schema in _RULE_SCHEMA["properties"].items()
                    if name in _STEP_FIELDS
                },
            },
            "RuleFault": {
                **_FAULT_SCHEMA,
                "properties": {**_FAULT_SCHEMA["properties"], "kind": _RULE_KIND},
            },
        }
    },
}
# POST /api/tps does what PUT does (for clients that only POST)
OPENAPI["paths"]["/api/tps"]["post"] = OPENAPI["paths"]["/api/tps"]["put"]


# -- the document as the check of the API's input ----------------------------------------------


class SchemaError(ValueError):
    """A request's parameter or body does not match the document; the message names it."""


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = str(ref).rsplit("/", 1)[-1]
    resolved: dict[str, Any] = OPENAPI["components"]["schemas"][name]
    return resolved


def _admits_type(value: Any, schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds is None:
        return True
    return any(_is_type(value, kind) for kind in ([kinds] if isinstance(kinds, str) else kinds))


def _is_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False  # JSON true is not the number 1
    return isinstance(value, _JSON_TYPES[kind])


def check_value(value: Any, schema: dict[str, Any], where: str) -> None:
    """Check ``value`` (parsed JSON) against ``schema``, the subset of JSON Schema the
    document uses: ``type`` (one or a list), ``enum``, ``const``, bounds, ``pattern``,
    ``required``, ``properties``, ``additionalProperties: false``, ``items``, ``maxItems``,
    ``oneOf``, ``if``/``then`` and ``$ref``.

    Raises :class:`SchemaError` naming the first field that does not match (``where`` is its
    path so far, e.g. ``body.faults[2].times``).
    """
    schema = _resolve(schema)
    if "oneOf" in schema:
        # the one choice of the value's JSON type, when only one fits: its error names the
        # field (``body.id={}: expected string``), not every choice's
        fitting = [c for c in schema["oneOf"] if _admits_type(value, _resolve(c))]
        errors = []
        for choice in fitting if len(fitting) == 1 else schema["oneOf"]:
            try:
                check_value(value, choice, where)
            except SchemaError as exc:
                errors.append(str(exc))
            else:
                return
        described = f" ({schema['description']})" if "description" in schema else ""
        raise SchemaError("; or ".join(errors) + described)
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is_type(value, kind) for kind in allowed):
            raise SchemaError(f"{where}={_shown(value)}: expected {' or '.join(allowed)}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(f"{where}={_shown(value)}: expected {schema['const']!r}")
    if "if" in schema:  # then applies when if matches (else is not used by the document)
        try:
            check_value(value, schema["if"], where)
        except SchemaError:
            pass
        else:
            check_value(value, schema["then"], where)
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{where}={_shown(value)}: expected one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(f"{where}={value!r}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(f"{where}={value!r}: must be <= {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise SchemaError(f"{where}={value!r}: must be > {schema['exclusiveMinimum']}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise SchemaError(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            raise SchemaError(f"{where}={_shown(value)}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                raise SchemaError(f"{where}.{name}: required")
        for name, item in value.items():
            if name in properties:
                check_value(item, properties[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                raise SchemaError(f"{where}.{name}: unknown field (known: {sorted(properties)})")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(f"{where}: {len(value)} items, at most {schema['maxItems']}")
        if "items" in schema:
            for index, item in enumerate(value):
                check_value(item, schema["items"], f"{where}[{index}]")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parameter_value(raw: str, schema: dict[str, Any], where: str) -> Any:
    """A query or path parameter's text as the JSON value its schema types it as."""
    kinds = schema.get("type")
    allowed = [kinds] if isinstance(kinds, str) else list(kinds or ["string"])
    if "integer" in allowed:
        text = raw.strip()
        if not (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())) or len(text) > 40:
            raise SchemaError(f"{where}={_shown(raw)}: expected an integer")
        return int(text)
    if "boolean" in allowed:
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
        raise SchemaError(f"{where}={_shown(raw)}: expected true or false")
    return raw


def check_parameters(
    path: str, method: str, query: Mapping[str, str], match: Mapping[str, str]
) -> None:
    """Check a request's path and query parameters against the document's operation
    (``path``: the document's path template, ``method``: lower case)."""
    operation = OPENAPI["paths"][path][method]
    for parameter in operation.get("parameters", ()):
        name = parameter["name"]
        source = match if parameter["in"] == "path" else query
        if name not in source:
            if parameter.get("required"):
                raise SchemaError(f"{name}: required")
            continue
        where = f"{parameter['in']} parameter {name}"
        getall = getattr(query, "getall", None)  # a multidict: the same name given twice
        if source is query and getall is not None and len(getall(name)) > 1:
            raise SchemaError(f"{where}: given more than once")
        schema = parameter["schema"]
        check_value(_parameter_value(source[name], schema, where), schema, where)


def body_schema(path: str, method: str) -> dict[str, Any] | None:
    """The JSON schema of the operation's request body, if it takes one."""
    body = OPENAPI["paths"][path][method].get("requestBody")
    if body is None:
        return None
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema
