"""The OpenAPI 3.1 document of the mock's JSON API, served at ``GET /api/openapi.json``."""

from __future__ import annotations

from typing import Any

from mockmmsc.faults import FAULT_KINDS
from mockmmsc.traffic import SERIES
from mockmmsc.views import MAX_LIMIT

__all__ = ["OPENAPI"]


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": kind}}


_ERROR = _json("bad input", {"$ref": "#/components/schemas/Error"})
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": MAX_LIMIT}},
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
                "summary": "The mock: carrier profile, time scale, MM7 path, messages stored",
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
                    "503": _ERROR,
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
                    _query("status_code", "the MM7 status answered, e.g. 4030", "integer"),
                    _query("since", "received at or after (ISO 8601 or epoch seconds)"),
                    _query("until", "received at or before (ISO 8601 or epoch seconds)"),
                    _query(
                        "before_id",
                        "a cursor: only messages that arrived before the one with this id "
                        "(the last row's id pages back steadily while new ones arrive)",
                        "integer",
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
                "summary": "One decoded content part: inline with its content type (sandboxed), "
                "or with download=1 as an attachment that is never rendered",
                "parameters": [
                    _ID,
                    {
                        "name": "index",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    _query("download", "1: as application/octet-stream, an attachment", "boolean"),
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
                        "schema": {"type": "integer", "minimum": 1},
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
        }
    },
}
# POST /api/tps does what PUT does (for clients that only POST)
OPENAPI["paths"]["/api/tps"]["post"] = OPENAPI["paths"]["/api/tps"]["put"]
