"""The observability module without a network: label bounds, one registry per observer, the
JSON formatter, configure_logging's checks."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from mm7client.observability import (
    MAX_LABEL_VALUES,
    JsonLogFormatter,
    RequestRecord,
    ServerObserver,
    configure_logging,
)


def test_each_observer_counts_in_its_own_registry_never_the_default_one() -> None:
    first = ServerObserver("receiver", "test.requests")
    second = ServerObserver("receiver", "test.requests")
    first.observe(RequestRecord("DeliverReq", 1000, 200, duration=0.002))
    labels = {"server": "receiver", "operation": "DeliverReq", "status_code": "1000"}
    labels["http_status"] = "200"
    assert first.registry.get_sample_value("mm7_requests_total", labels) == 1
    assert second.registry.get_sample_value("mm7_requests_total", labels) is None
    assert REGISTRY.get_sample_value("mm7_requests_total", labels) is None


def test_vasid_labels_are_bounded() -> None:
    observer = ServerObserver("mockmmsc", "test.requests")
    for n in range(MAX_LABEL_VALUES + 5):
        observer.observe(RequestRecord("SubmitReq", 1000, 200, vas_id=f"V{n}"))
    labels = {"server": "mockmmsc", "vas_id": "other", "outcome": "accepted"}
    assert observer.registry.get_sample_value("mm7_vasid_requests_total", labels) == 5
    labels["vas_id"] = "V0"
    assert observer.registry.get_sample_value("mm7_vasid_requests_total", labels) == 1


def test_a_request_line_names_every_field(caplog: pytest.LogCaptureFixture) -> None:
    observer = ServerObserver("mockmmsc", "test.requests")
    record = RequestRecord("SubmitReq", 4008, 200, vas_id="SVC", transaction_id="T1")
    record.set_recipients(["01011112222", "01033334444"])
    record.duration = 0.0125
    with caplog.at_level(logging.INFO, logger="test.requests"):
        observer.observe(record)
    (line,) = caplog.records
    assert line.getMessage() == (
        "SubmitReq vasid=SVC recipient=01011112222 (+1) status=4008 http=200 ms=12.5 tid=T1 peer=-"
    )


def test_json_formatter_carries_extra_fields_and_exceptions() -> None:
    logger = logging.getLogger("test.json")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            "test.json",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("now",),
            sys.exc_info(),
            extra={"vas_id": "SVC", "recipient": "01012345678", "subject": "안녕"},
        )
    data = json.loads(JsonLogFormatter().format(record))
    assert data["message"] == "failed now" and data["level"] == "ERROR"
    assert data["logger"] == "test.json"
    assert (data["vas_id"], data["recipient"], data["subject"]) == ("SVC", "01012345678", "안녕")
    assert "ValueError: boom" in data["exception"]
    assert "args" not in data and "msg" not in data


def test_configure_logging_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="log_format='xml'"):
        configure_logging(1, "xml", io.StringIO())


def test_configure_logging_json_in_a_fresh_process() -> None:
    # the root logger of a test run has pytest's handlers: configure it where it has none
    code = (
        "import logging, sys\n"
        "from mm7client.observability import configure_logging\n"
        "configure_logging(1, 'json', sys.stdout)\n"
        "logging.getLogger('x').info('hello %s', 'there', extra={'vas_id': 'SVC'})\n"
        "logging.getLogger('x').debug('hidden at -v')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    (line,) = out.splitlines()
    data = json.loads(line)
    assert (data["message"], data["vas_id"], data["level"]) == ("hello there", "SVC", "INFO")
