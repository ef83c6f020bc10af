"""The mock's fault injection on the wire: each fault kind does what it says, once or always."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import decode, encode
from mm7client.errors import ParseError
from mm7client.model import DeliveryReportRequest, SubmitRequest, SubmitResponse
from mm7client.profiles import LGT, THREEGPP
from mockmmsc import MockMMSC, MockSettings, Rule
from mockmmsc.faults import Fault
from mockmmsc.settings import SettingsError, load_config
from mockmmsc.testing import ReportSink, lgt_submit, post_mm7

GUARD = 10.0  # no test waits longer than this for anything


def raw_submit(*to: str, delivery_report: bool = False) -> tuple[bytes, dict[str, str]]:
    encoded = encode(lgt_submit(*to, delivery_report=delivery_report), LGT)
    return encoded.body, {"Content-Type": encoded.content_type, "SOAPAction": '""'}


async def submit_ok(session: aiohttp.ClientSession, mmsc: MockMMSC) -> None:
    """The mock still answers a plain SubmitReq with 1000."""
    answer = await post_mm7(session, mmsc.url, lgt_submit(delivery_report=False))
    assert answer.http_status == 200 and answer.status_code == 1000, answer


@pytest_asyncio.fixture
async def realtime() -> MockMMSC:
    async with MockMMSC(MockSettings(time_scale=1.0, report_delay=0.0)) as mock:
        yield mock


@pytest.mark.asyncio
async def test_fixed_delay_holds_the_answer_then_answers_normally(realtime: MockMMSC) -> None:
    realtime.add_rule(fault={"kind": "delay", "delay": 1.0}, times=1)
    body, headers = raw_submit()
    quick = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=quick) as http:
        with pytest.raises(asyncio.TimeoutError):
            await http.post(realtime.url, data=body, headers=headers)
        async with http.post(realtime.url, data=body, headers=headers) as rsp:  # rule used up
            message = decode(await rsp.read(), rsp.headers["Content-Type"])
    assert isinstance(message, SubmitResponse) and message.status.code == "1000"


@pytest.mark.asyncio
async def test_random_delay_is_drawn_between_its_bounds() -> None:
    settings = MockSettings(time_scale=0.0, random_seed=7)
    async with MockMMSC(settings) as mmsc:
        fault = Fault(kind="delay", delay=0.5, delay_max=2.0)
        mmsc.add_rule(fault=fault)
        draws = [fault.wait_seconds(mmsc.endpoint.faults.random) for _ in range(200)]
        assert all(0.5 <= d <= 2.0 for d in draws) and len(set(draws)) > 100
        async with aiohttp.ClientSession() as http:
            await asyncio.wait_for(submit_ok(http, mmsc), GUARD)  # time scale 0: no wait
        assert fault.hits == 1


@pytest.mark.asyncio
async def test_no_answer_holds_until_the_client_gives_up(realtime: MockMMSC) -> None:
    realtime.add_rule(fault="no_answer", times=1)
    body, headers = raw_submit()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as http:
        with pytest.raises(asyncio.TimeoutError):
            await http.post(realtime.url, data=body, headers=headers)
        # the request was handled (accepted and stored), only the answer is missing
        (item,) = await realtime.wait_for_messages(1, timeout=GUARD)
        assert item.status_code == 1000 and item.message_id
        # the hold ends as soon as the client has gone
        for _ in range(200):
            if realtime.endpoint.holds.holding == 0:
                break
            await asyncio.sleep(0.01)
        assert realtime.endpoint.holds.holding == 0
        await submit_ok(http, realtime)


@pytest.mark.asyncio
async def test_no_answer_is_bounded_by_the_max_hold_and_released_on_stop() -> None:
    settings = MockSettings(time_scale=1.0, fault_max_hold=0.2)
    async with MockMMSC(settings) as mmsc, aiohttp.ClientSession() as http:
        mmsc.add_rule(fault={"kind": "no_answer", "hold": 60})
        body, headers = raw_submit()
        with pytest.raises(aiohttp.ServerDisconnectedError):  # dropped after 0.2 s, not 60
            await asyncio.wait_for(http.post(mmsc.url, data=body, headers=headers), GUARD)
    # a hold of the full max, interrupted by stopping the mock
    mmsc = await MockMMSC(MockSettings(time_scale=1.0, fault_max_hold=600)).start()
    mmsc.add_rule(fault="no_answer")
    async with aiohttp.ClientSession() as http:
        pending = asyncio.ensure_future(http.post(mmsc.url, data=body, headers=headers))
        await mmsc.wait_for_messages(1, timeout=GUARD)
        await asyncio.wait_for(mmsc.stop(), GUARD)
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(pending, GUARD)


@pytest.mark.asyncio
async def test_reset_before_body_drops_unread_and_stores_nothing(
    mmsc: MockMMSC, session: aiohttp.ClientSession
) -> None:
    mmsc.endpoint.faults.add({"kind": "reset_before_body", "times": 1})
    body, headers = raw_submit()
    with pytest.raises(aiohttp.ClientConnectionError):
        await session.post(mmsc.url, data=body, headers=headers)
    assert mmsc.messages == []
    await submit_ok(session, mmsc)
    assert len(mmsc.messages) == 1


@pytest.mark.asyncio
async def test_reset_after_body_handles_the_request_then_drops(mmsc_settings, session) -> None:
    async with ReportSink() as sink, MockMMSC(mmsc_settings, report_url=sink.url) as mmsc:
        mmsc.add_rule(fault="reset_after_body", times=1)
        body, headers = raw_submit("01012345678", delivery_report=True)
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(mmsc.url, data=body, headers=headers)
        (item,) = mmsc.messages
        assert item.status_code == 1000 and item.message_id
        # the message was accepted: its delivery report still comes
        (report,) = await mmsc.wait_for_reports(1, timeout=GUARD)
        assert report.message_id == item.message_id


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_http_error_answers_an_html_page(
    mmsc: MockMMSC, session: aiohttp.ClientSession, status: int
) -> None:
    mmsc.add_rule(fault={"kind": "http_error", "http_status": status}, times=1)
    body, headers = raw_submit(delivery_report=True)
    async with session.post(mmsc.url, data=body, headers=headers) as rsp:
        page = await rsp.text()
        assert rsp.status == status
        assert rsp.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{status} " in page
    with pytest.raises(ParseError):
        decode(page.encode(), "text/html")
    (item,) = mmsc.messages
    assert item.http_status == status and item.message_id is None and item.reports == []
    await submit_ok(session, mmsc)


@pytest.mark.asyncio
async def test_soap_fault_refuses_with_its_status(
    mmsc: MockMMSC, session: aiohttp.ClientSession
) -> None:
    mmsc.add_rule(fault={"kind": "soap_fault", "status": 4006, "http_status": 500}, times=1)
    answer = await post_mm7(session, mmsc.url, lgt_submit())
    assert answer.http_status == 500 and answer.is_fault
    assert answer.status_code == 4006
    assert mmsc.messages[0].message_id is None
    mmsc.add_rule(fault="soap_fault", times=1)  # defaults: 3000, HTTP 500
    answer = await post_mm7(session, mmsc.url, lgt_submit())
    assert (answer.http_status, answer.status_code) == (500, 3000)
    await submit_ok(session, mmsc)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["truncated", "malformed"])
async def test_damaged_xml_answers_do_not_parse(
    mmsc: MockMMSC, session: aiohttp.ClientSession, kind: str
) -> None:
    mmsc.add_rule(fault=kind, times=1)
    answer = await post_mm7(session, mmsc.url, lgt_submit())
    assert answer.http_status == 200 and answer.message is None
    assert answer.body and b"Traceback" not in answer.body
    with pytest.raises(ParseError):
        decode(answer.body, answer.content_type)
    assert mmsc.messages[0].status_code == 1000  # accepted: only the answer is damaged
    await submit_ok(session, mmsc)


@pytest.mark.asyncio
async def test_wrong_transaction_id_is_otherwise_a_valid_answer(
    mmsc: MockMMSC, session: aiohttp.ClientSession
) -> None:
    mmsc.add_rule(fault="wrong_transaction_id")
    request = lgt_submit(transaction_id="tid-sent-1")
    answer = await post_mm7(session, mmsc.url, request)
    assert isinstance(answer.message, SubmitResponse) and answer.status_code == 1000
    assert answer.message.transaction_id not in (None, "tid-sent-1")
    assert mmsc.messages[0].transaction_id == "tid-sent-1"  # what the request carried


@pytest.mark.asyncio
async def test_slow_body_dribbles_a_valid_answer() -> None:
    settings = MockSettings(time_scale=1.0)
    async with MockMMSC(settings) as mmsc, aiohttp.ClientSession() as http:
        mmsc.add_rule(fault={"kind": "slow_body", "chunk_size": 32, "chunk_interval": 0.005})
        body, headers = raw_submit()
        async with http.post(mmsc.url, data=body, headers=headers) as rsp:
            reads = [chunk async for chunk in rsp.content.iter_any()]
            content_type = rsp.headers["Content-Type"]
        data = b"".join(reads)
        assert len(reads) >= len(data) // 32 // 2  # many small reads, not one
        message = decode(data, content_type)
        assert isinstance(message, SubmitResponse) and message.status.code == "1000"
        # a client that gives up mid-body leaves the mock unharmed
        mmsc.reset_rules()
        mmsc.add_rule(fault={"kind": "slow_body", "chunk_size": 1, "chunk_interval": 0.05})
        with pytest.raises(asyncio.TimeoutError):
            async with http.post(
                mmsc.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=0.3)
            ) as rsp:
                await rsp.read()
        mmsc.reset_rules()
        await submit_ok(http, mmsc)


@pytest.mark.asyncio
async def test_first_n_and_probability(mmsc_settings, session) -> None:
    async with MockMMSC(mmsc_settings, random_seed=3) as mmsc:
        first = Fault(kind="http_error", times=3)
        mmsc.endpoint.faults.add(first)
        statuses = [(await post_mm7(session, mmsc.url, lgt_submit())).http_status for _ in range(6)]
        assert statuses == [503, 503, 503, 200, 200, 200] and first.hits == 3
        mmsc.endpoint.faults.reset()
        sometimes = Fault(kind="soap_fault", probability=0.5)
        mmsc.endpoint.faults.add(sometimes)
        codes = [(await post_mm7(session, mmsc.url, lgt_submit())).status_code for _ in range(40)]
        assert set(codes) == {1000, 3000}
        assert codes.count(3000) == sometimes.hits and 8 <= sometimes.hits <= 32


@pytest.mark.asyncio
async def test_global_fault_matches_operation_and_vas_id(mmsc, session) -> None:
    mmsc.endpoint.faults.add({"kind": "http_error", "vas_id": "OTHER"})
    mmsc.endpoint.faults.add({"kind": "soap_fault", "operation": "CancelReq"})
    await submit_ok(session, mmsc)  # VAS001 SubmitReq: neither applies
    answer = await post_mm7(session, mmsc.url, lgt_submit(vas_id="OTHER"))
    assert answer.http_status == 503


@pytest.mark.asyncio
async def test_faults_over_the_admin_api(mmsc: MockMMSC, session: aiohttp.ClientSession) -> None:
    api = mmsc.base_url + "/api/faults"
    async with session.post(api, json=[{"kind": "http_error", "times": 1}, "truncated"]) as rsp:
        assert rsp.status == 201
        ids = (await rsp.json())["ids"]
    async with session.get(api) as rsp:
        listed = (await rsp.json())["faults"]
    assert [f["id"] for f in listed] == ids and listed[0]["kind"] == "http_error"
    answer = await post_mm7(session, mmsc.url, lgt_submit())
    assert answer.http_status == 503
    async with session.get(api) as rsp:
        assert (await rsp.json())["faults"][0]["hits"] == 1
    async with session.delete(f"{api}/{ids[1]}") as rsp:
        assert rsp.status == 200
    async with session.delete(f"{api}/{ids[1]}") as rsp:
        assert rsp.status == 404
    await submit_ok(session, mmsc)
    for bad in (
        {"kind": "explode"},
        {"times": 1},
        {"kind": "http_error", "http_status": 418},
        {"kind": "delay", "delay": -1},
        {"kind": "delay", "delay": "soon"},
        {"kind": "slow_body", "chunk_size": 0},
        {"kind": "no_answer", "colour": "red"},
        [{"kind": "truncated"}, {"kind": "nope"}],  # all or nothing
        42,
    ):
        async with session.post(api, json=bad) as rsp:
            error = await rsp.json()
            assert rsp.status == 400, (bad, error)
            assert error["error"]
    async with session.delete(api) as rsp:
        assert (await rsp.json())["deleted"] == 1  # the one left: the used-up http_error
    # a rule cannot hold reset_before_body: it acts before the rule could match
    async with session.post(
        mmsc.base_url + "/api/rules", json={"fault": "reset_before_body"}
    ) as rsp:
        assert rsp.status == 400 and "global fault" in (await rsp.json())["error"]
    async with session.post(
        mmsc.base_url + "/api/rules", json={"recipient": "010*", "fault": ["no_answer"]}
    ) as rsp:
        assert rsp.status == 201
        (rule,) = (await rsp.json())["rules"]
    assert rule["fault"][0]["kind"] == "no_answer"
    async with session.get(mmsc.base_url + "/api/openapi.json") as rsp:
        document = await rsp.json()
    assert "/api/faults" in document["paths"] and "Fault" in document["components"]["schemas"]


def test_faults_from_settings_and_config_file(tmp_path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(
        'fault_max_hold = 2.5\n[[faults]]\nkind = "http_error"\nhttp_status = 502\ntimes = 2\n'
        '[[rules]]\nrecipient = "0107777*"\nfault = {kind = "slow_body", chunk_size = 8}\n'
    )
    settings = load_config(path)
    assert settings.fault_max_hold == 2.5
    mock = MockMMSC(settings)
    (fault,) = list(mock.endpoint.faults)
    assert (fault.kind, fault.http_status, fault.times) == ("http_error", 502, 2)
    (rule,) = list(mock.rules)
    assert rule.fault[0].chunk_size == 8
    with pytest.raises(SettingsError, match="fault kind"):
        MockMMSC(MockSettings(faults=[{"kind": "nope"}]))
    with pytest.raises(SettingsError, match="fault_max_hold"):
        MockSettings(fault_max_hold=-1)
    with pytest.raises(SettingsError):
        Rule(then=[{"fault": {"kind": "delay", "delay": "x"}}])
    assert json.dumps(Rule(fault="malformed").to_dict())  # JSON-able


async def _report_flow(
    settings: MockSettings, fault: dict[str, object], *submits: SubmitRequest, expected: int
) -> tuple[MockMMSC, list[DeliveryReportRequest]]:
    async with ReportSink() as sink, MockMMSC(settings, report_url=sink.url) as mmsc:
        mmsc.add_rule(fault=fault, times=1)
        async with aiohttp.ClientSession() as http:
            for request in submits:
                answer = await post_mm7(http, mmsc.url, request, profile=THREEGPP)
                assert answer.status_code == 1000, answer
        await mmsc.wait_for_reports(expected, timeout=GUARD)
        await asyncio.sleep(0.05)  # nothing more comes
        assert len(mmsc.store.reports) == expected
        reports = [m for m in sink.received if isinstance(m, DeliveryReportRequest)]
        assert len(reports) == expected
        return mmsc, reports


@pytest.fixture
def any_form(mmsc_settings: MockSettings) -> MockSettings:
    return mmsc_settings.replace(require_kisa=False)


@pytest.mark.asyncio
async def test_duplicate_report_sends_each_report_twice(any_form: MockSettings) -> None:
    request = lgt_submit("01011110001", "01011110002")
    _, reports = await _report_flow(any_form, {"kind": "duplicate_report"}, request, expected=4)
    keys = sorted((r.message_id, r.recipient.value) for r in reports)
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[0] != keys[2]


@pytest.mark.asyncio
async def test_out_of_order_reports_are_overtaken(any_form: MockSettings) -> None:
    held_back = {"kind": "out_of_order_reports", "delay": 20}  # 0.2 s at time scale 0.01
    first, second = lgt_submit("01011110001"), lgt_submit("01011110002")
    _, reports = await _report_flow(any_form, held_back, first, second, expected=2)
    assert [r.recipient.value for r in reports] == ["01011110002", "01011110001"]
    # several recipients of one message: reverse order
    to = ("01011110001", "01011110002", "01011110003")
    _, reports = await _report_flow(any_form, held_back, lgt_submit(*to), expected=3)
    assert [r.recipient.value for r in reports] == list(reversed(to))


@pytest.mark.asyncio
async def test_report_for_an_unknown_message_id(any_form: MockSettings) -> None:
    request = lgt_submit("01011110001")
    mmsc, reports = await _report_flow(
        any_form, {"kind": "unknown_message_id_report"}, request, expected=2
    )
    (stray,) = [r for r in reports if mmsc.store.by_message_id(r.message_id) is None]
    assert stray.message_id.startswith("UNKNOWN")


@pytest.mark.asyncio
async def test_an_endpoint_fault_never_leaks_a_traceback() -> None:
    """A different fault on each request: no traceback, the app stays healthy."""
    async with MockMMSC(MockSettings(time_scale=0.0)) as mmsc, aiohttp.ClientSession() as http:
        for kind in ("truncated", "malformed", "wrong_transaction_id", "soap_fault", "slow_body"):
            mmsc.endpoint.faults.add({"kind": kind, "times": 1})
        for _ in range(5):
            async with http.post(mmsc.url, data=encode(lgt_submit(), LGT).body) as rsp:
                assert b"Traceback" not in await rsp.read()
        async with http.get(mmsc.base_url + "/healthz") as rsp:
            assert (await rsp.json())["messages"] == 5
