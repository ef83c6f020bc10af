"""The mock's JSON API and its OpenAPI document agree (checked with schemathesis).

Schemathesis generates requests from the document (valid and invalid ones) and checks the
answers: no server error, every status and body as documented, invalid input refused with a
4xx, a method a path lacks answered 405 with ``Allow``. The mock serves on loopback in a
thread of its own (schemathesis calls it synchronously); the number of examples per
operation is bounded so the run stays short.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mockmmsc import MockMMSC, MockSettings
from mockmmsc.openapi import OPENAPI

#: ``/api/events`` streams forever: checked by its own tests, not here
schema = schemathesis.openapi.from_dict(OPENAPI).exclude(path="/api/events")


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """A mock on 127.0.0.1 served by its own event loop in a thread; its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    mock = MockMMSC(MockSettings(host="127.0.0.1", port=0, time_scale=0.01))
    stop = asyncio.Event()

    async def serve() -> None:
        async with mock:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10), "the mock did not start"
    try:
        yield mock.base_url
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_does_what_its_document_says(case, api_url: str) -> None:
    excluded = []
    if case.operation.path == "/api/messages" and case.method == "GET":
        # since/until take "ISO 8601 or epoch seconds": a string JSON Schema cannot tell
        # valid from invalid, so a generated "valid" one may be refused (400, naming it)
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=api_url, timeout=10, excluded_checks=excluded)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/faults", {"kind": "delay", "id": {}}, "body.id"),
        ("POST", "/api/faults", {"kind": "delay", "times": None, "chunk_size": None}, "chunk_size"),
        ("POST", "/api/rules", {"status": None}, "body.status"),
        ("POST", "/api/rules", {"http_status": 99}, "http_status"),
        ("POST", "/api/overload", {"seconds": 60, "colour": "red"}, "body.colour"),
        ("PUT", "/api/tps", {"vas_id": "V", "tps": 0}, "body.tps"),
        ("PUT", "/api/report-urls", {"vas_id": "V", "url": "ftp://x"}, "body.url"),
        ("GET", "/api/reports?pending=banana", None, "pending"),
        ("GET", "/api/messages?limit=1001", None, "limit"),
        ("GET", "/api/messages?status_code=null", None, "status_code"),
        ("GET", "/api/messages/1/parts/x", None, "index"),
    ],
)
def test_what_the_document_refuses_is_refused_naming_the_field(
    api_url: str, method: str, path: str, body: object, field: str
) -> None:
    response = requests.request(method, api_url + path, json=body, timeout=10)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"], response.json()


def test_a_method_a_path_lacks_is_405_with_allow(api_url: str) -> None:
    response = requests.request("PATCH", api_url + "/api/rules", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST, DELETE"
    assert response.json()["status"] == 405
    # an unknown path is still 404
    assert requests.get(api_url + "/api/nothing-here", timeout=10).status_code == 404


def test_a_rule_step_has_the_fields_of_an_action() -> None:
    from mockmmsc.faults import _FAULT_FIELDS
    from mockmmsc.openapi import _STEP_FIELDS
    from mockmmsc.scenarios import _ACTION_FIELDS, _RULE_FIELDS

    assert set(_STEP_FIELDS) == _ACTION_FIELDS
    assert set(OPENAPI["components"]["schemas"]["Rule"]["properties"]) == _RULE_FIELDS
    assert set(OPENAPI["components"]["schemas"]["Fault"]["properties"]) == _FAULT_FIELDS - {"hits"}
