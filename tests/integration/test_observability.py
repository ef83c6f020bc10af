"""Operations over loopback: /metrics counters move after real requests (client -> mock,
report -> receiver), request log lines carry their fields, /healthz and /readyz answer, and the
client's stats reach a user's registry."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from mm7client import MM7Client, Part, SubmitRequest
from mm7client import observability as obs
from mm7client.codec import encode
from mm7client.observability import ClientStatsCollector, JsonLogFormatter
from mm7client.profiles import LGT
from mm7client.receiver import ReceiverServer, SqliteStore
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, MockSettings
from mockmmsc.testing import lgt_submit

REFUSED = "01099994008"  # the mock's magic number answering 4008


def client_for(url: str) -> MM7Client:
    return MM7Client(
        url,
        vasp_id="VASP",
        vas_id="VAS1",
        kisa_orig_code="123456789",
        callback="15881234",
        retry=RetryPolicy(base_delay=0.01, max_delay=0.05),
    )


def message(to: str, *, report: bool = False) -> SubmitRequest:
    return SubmitRequest(
        to=[to], subject="metrics", content=[Part.from_text("hello")], delivery_report=report
    )


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of the Prometheus text at ``url``."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.asyncio
async def test_mock_metrics_move_after_client_requests_and_the_collector_mirrors_stats(
    mmsc: MockMMSC, caplog: pytest.LogCaptureFixture
) -> None:
    metrics_url = mmsc.base_url + "/metrics"
    before = await scrape(metrics_url)
    assert value(before, "mm7_requests_total", server="mockmmsc", operation="SubmitReq") == 0
    caplog.set_level(logging.INFO, logger="mockmmsc.requests")
    async with client_for(mmsc.url) as client:
        for _ in range(3):
            assert (await client.submit(message("01012345678"))).ok
        refused = await client.submit(message(REFUSED))
        assert not refused.ok
        registry = CollectorRegistry()
        registry.register(ClientStatsCollector(client))
        stats = client.stats["VAS1"]
        assert registry.get_sample_value("mm7_client_sent_total", {"vas_id": "VAS1"}) == stats.sent
        for category, count in stats.results.items():
            labels = {"vas_id": "VAS1", "category": category}
            assert registry.get_sample_value("mm7_client_results_total", labels) == count
        assert registry.get_sample_value("mm7_client_retries_total", {"vas_id": "VAS1"}) == float(
            stats.retries
        )

    after = await scrape(metrics_url)
    refusals = [item for item in mmsc.messages if item.status_code != 1000]
    assert refusals and all(item.status_code == 4008 for item in refusals)
    base = {"server": "mockmmsc", "operation": "SubmitReq"}
    accepted = value(after, "mm7_requests_total", **base, status_code="1000", http_status="200")
    assert accepted == 3
    assert value(after, "mm7_requests_total", **base, status_code="4008", http_status="200") == len(
        refusals
    )
    per_vas = {"server": "mockmmsc", "vas_id": "VAS1"}
    assert value(after, "mm7_vasid_requests_total", **per_vas, outcome="accepted") == 3
    assert value(after, "mm7_vasid_requests_total", **per_vas, outcome="refused") == len(refusals)
    # the latency histogram: one observation per request, buckets included
    assert value(after, "mm7_request_duration_seconds_count", **base) == 3 + len(refusals)
    assert value(after, "mm7_request_duration_seconds_bucket", **base, le="+Inf") == 3 + len(
        refusals
    )
    assert value(after, "mm7_request_duration_seconds_sum", **base) > 0
    # the client's sent counter saw every one of those requests
    assert stats.sent == 3 + len(refusals)

    lines = [r for r in caplog.records if r.name == "mockmmsc.requests"]
    assert len(lines) == 3 + len(refusals)
    last: Any = lines[-1]
    assert (last.operation, last.vas_id, last.recipient) == ("SubmitReq", "VAS1", REFUSED)
    assert last.status_code == 4008 and last.http_status == 200
    assert last.transaction_id and last.transaction_id in last.getMessage()
    assert last.duration_ms > 0
    parsed = json.loads(JsonLogFormatter().format(last))
    assert parsed["logger"] == "mockmmsc.requests" and parsed["level"] == "INFO"
    assert parsed["vas_id"] == "VAS1" and parsed["recipient"] == REFUSED
    assert parsed["status_code"] == 4008 and parsed["transaction_id"] == last.transaction_id
    assert parsed["time"].endswith("Z") and "ms=" in parsed["message"]


@pytest.mark.asyncio
async def test_reports_move_the_mock_and_receiver_metrics(
    mmsc: MockMMSC, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mm7client.receiver.requests")
    async with SqliteStore(":memory:") as store, ReceiverServer(store) as rx:
        mmsc.set_report_url("VAS1", rx.url)
        async with client_for(mmsc.url) as client:
            for recipient in ("01088880001", "01088880004"):
                assert (await client.submit(message(recipient, report=True))).ok
        reports = await mmsc.wait_for_reports(2, timeout=10.0)
        assert all(report.acknowledged for report in reports)
        received = await scrape(rx.url + "metrics")
    sent = await scrape(mmsc.base_url + "/metrics")

    assert value(sent, "mm7_reports_sent_total", server="mockmmsc") == 2
    assert value(sent, "mm7_reports_failed_total", server="mockmmsc") == 0
    assert value(sent, "mm7_reports_pending", server="mockmmsc") == 0
    labels = {"server": "receiver", "operation": "DeliveryReportReq"}
    ok = {"status_code": "1000", "http_status": "200"}
    assert value(received, "mm7_requests_total", **labels, **ok) == 2
    assert value(received, "mm7_request_duration_seconds_count", **labels) == 2
    stored = {"server": "receiver", "kind": "delivery_report", "outcome": "stored"}
    assert value(received, "mm7_received_items_total", **stored) == 2

    lines: list[Any] = [r for r in caplog.records if r.name == "mm7client.receiver.requests"]
    assert sorted(line.recipient for line in lines) == ["01088880001", "01088880004"]
    assert all(line.status_code == 1000 and line.transaction_id for line in lines)


@pytest.mark.asyncio
async def test_receiver_health_and_readiness_follow_the_store() -> None:
    store = SqliteStore(":memory:")
    async with ReceiverServer(store) as rx, aiohttp.ClientSession() as session:
        async with session.get(rx.url + "healthz") as response:
            assert response.status == 200
            health = await response.json()
            assert health["status"] == "ok" and health["version"] == obs.package_version()
        async with session.get(rx.url + "readyz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ready"
        await store.close()
        async with session.get(rx.url + "readyz") as response:
            assert response.status == 503
            answer = await response.json()
            assert answer["status"] == "not ready" and answer["reason"]
        async with session.get(rx.url + "healthz") as response:
            assert response.status == 200  # alive, though not ready


@pytest.mark.asyncio
async def test_mock_is_ready_while_it_runs(mmsc: MockMMSC) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(mmsc.base_url + "/readyz") as response:
            assert response.status == 200
            assert (await response.json()) == {"status": "ready", "server": "mockmmsc"}
        async with session.get(mmsc.base_url + "/healthz") as response:
            health = await response.json()
            assert health["status"] == "ok" and health["version"] == obs.package_version()


@pytest.mark.asyncio
async def test_metrics_without_prometheus_client_answer_501_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(obs, "prometheus_client", None)
    with pytest.raises(obs.MetricsUnavailableError, match=r"mm7toolkit\[metrics\]"):
        ClientStatsCollector(client_for("http://127.0.0.1:9/"))
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store) as rx,
        aiohttp.ClientSession() as session,
        session.get(rx.url + "metrics") as response,
    ):
        assert response.status == 501
        assert "pip install 'mm7toolkit[metrics]'" in await response.text()


@pytest.mark.asyncio
async def test_a_dropped_connection_counts_as_http_0_with_its_mm7_status(mmsc: MockMMSC) -> None:
    mmsc.add_rule(fault="reset_after_body", times=1)
    encoded = encode(lgt_submit("01012345678", delivery_report=False), LGT)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(mmsc.url, data=encoded.body, headers=dict(encoded.headers))
    samples = await scrape(mmsc.base_url + "/metrics")
    labels = {"server": "mockmmsc", "operation": "SubmitReq", "status_code": "1000"}
    assert value(samples, "mm7_requests_total", **labels, http_status="0") == 1
    assert value(samples, "mm7_requests_total", **labels, http_status="204") == 0


@pytest.mark.asyncio
async def test_receiver_counts_a_refusal_with_its_reason_in_the_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mm7client.receiver.requests")
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store) as rx,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(rx.url, data=b"{}", headers={"Content-Type": "application/json"}):
            pass
        samples = await scrape(rx.url + "metrics")
    labels = {"server": "receiver", "operation": "refused", "status_code": "2007"}
    assert value(samples, "mm7_requests_total", **labels, http_status="415") == 1
    (line,) = [r for r in caplog.records if r.name == "mm7client.receiver.requests"]
    assert "is not XML or multipart" in line.getMessage()


@pytest.mark.asyncio
async def test_a_report_given_up_counts_as_failed() -> None:
    settings = MockSettings(time_scale=0.01, report_max_attempts=1)
    async with MockMMSC(settings) as mock:
        mock.set_report_url("VAS1", "http://127.0.0.1:9/")  # nothing listens: refused
        async with client_for(mock.url) as client:
            assert (await client.submit(message("01012345678", report=True))).ok
        for _ in range(250):  # <= 5 s: the report is tried once, then given up
            samples = await scrape(mock.base_url + "/metrics")
            if value(samples, "mm7_reports_failed_total", server="mockmmsc"):
                break
            await asyncio.sleep(0.02)
    assert value(samples, "mm7_reports_failed_total", server="mockmmsc") == 1
    assert value(samples, "mm7_reports_sent_total", server="mockmmsc") == 0
    assert value(samples, "mm7_reports_pending", server="mockmmsc") == 0
