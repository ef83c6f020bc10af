"""Rules, sequences, auth, KISA, TPS contracts, 4030 windows, report retries and restarts."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timedelta

import aiohttp
import pytest
import pytest_asyncio

from mm7client.model import Part
from mm7client.throttle import FakeClock
from mockmmsc import MockMMSC, Rule, VasAccount
from mockmmsc.testing import ReportSink, lgt_submit, post_mm7


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


async def codes(session, url, requests, **kwargs) -> list[int | None]:
    return [(await post_mm7(session, url, r, **kwargs)).status_code for r in requests]


@pytest.mark.asyncio
async def test_rules_match_recipient_vasid_subject_content_type(mmsc: MockMMSC, session):
    mmsc.add_rule(Rule(recipient="01011112222", status=6014))
    mmsc.add_rule(Rule(recipient="re:0103333\\d{4}", status=6072))
    mmsc.add_rule(Rule(recipient="010444*", status=6102))
    mmsc.add_rule(Rule(vas_id="OTHERVAS", status=4007))
    mmsc.add_rule(Rule(subject="re:.*광고.*", status=3002))
    mmsc.add_rule(Rule(content_type="image/*", status=2004))
    got = await codes(
        session,
        mmsc.url,
        [
            lgt_submit("01011112222"),
            lgt_submit("01033334444"),
            lgt_submit("01044445555"),
            lgt_submit("01012345678", vas_id="OTHERVAS"),
            lgt_submit("01012345678", subject="(광고) 세일"),
            lgt_submit("01012345678", content=[Part.jpeg(b"\xff\xd8x")]),
            lgt_submit("01012345678"),
        ],
    )
    assert got == [6014, 6072, 6102, 4007, 3002, 2004, 1000]
    assert [m.rule_id is not None for m in mmsc.messages] == [True] * 6 + [False]


@pytest.mark.asyncio
async def test_rule_list_remove_reset(mmsc: MockMMSC, session):
    first = mmsc.add_rule(recipient="01011112222", status=6014)
    second = mmsc.add_rule({"recipient": "01011112222", "status": 3000})
    assert [r.id for r in mmsc.rules] == [first, second]
    assert await codes(session, mmsc.url, [lgt_submit("01011112222")]) == [6014]
    assert mmsc.remove_rule(first) and not mmsc.remove_rule(first)
    assert await codes(session, mmsc.url, [lgt_submit("01011112222")]) == [3000]
    mmsc.reset_rules()
    assert await codes(session, mmsc.url, [lgt_submit("01011112222")]) == [1000]


@pytest.mark.asyncio
async def test_first_n_then_sequence(mmsc: MockMMSC, session):
    mmsc.add_rule(
        Rule(recipient="01012345678", status=4006, times=2, then=[{"status": 3000, "times": 1}])
    )
    mmsc.add_rule(Rule(recipient="01099990000", status=7103, times=1, then=[{"status": 1000}]))
    got = await codes(session, mmsc.url, [lgt_submit("01012345678")] * 5)
    assert got == [4006, 4006, 3000, 1000, 1000]  # then the rule is used up: default answer
    got = await codes(session, mmsc.url, [lgt_submit("01099990000")] * 3)
    assert got == [7103, 1000, 1000]


@pytest.mark.asyncio
async def test_probability_is_a_share_of_requests(mmsc_settings, session):
    async with MockMMSC(mmsc_settings.replace(random_seed=7)) as mmsc:
        mmsc.add_rule(Rule(status=3000, probability=0.5))
        got = await codes(
            session, mmsc.url, [lgt_submit("01012345678", delivery_report=False)] * 40
        )
    assert 5 < got.count(3000) < 35 and got.count(1000) == 40 - got.count(3000)


@pytest.mark.asyncio
async def test_rule_delay_and_report_status_and_delay(mmsc_settings, session):
    settings = mmsc_settings.replace(time_scale=0.01)
    async with ReportSink() as sink, MockMMSC(settings.replace(report_url=sink.url)) as mmsc:
        mmsc.add_rule(
            Rule(recipient="01012345678", delay=20, report_status="Rejected", report_delay=10)
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await post_mm7(session, mmsc.url, lgt_submit("01012345678"))
        assert loop.time() - started >= 0.2  # 20 s scaled by 0.01
        assert answer.status_code == 1000
        (report,) = await mmsc.wait_for_reports(1)
        assert (report.mm_status, report.status_text) == ("Rejected", "NOK")
        assert report.sent_at - mmsc.messages[0].received_at >= 0.1


@pytest.mark.asyncio
async def test_rules_from_toml_and_json_files(mmsc_settings, session, tmp_path):
    toml = tmp_path / "rules.toml"
    toml.write_text(
        '[[rules]]\nrecipient = "01011112222"\nstatus = 6014\n\n'
        '[[rules]]\nrecipient = "01033334444"\nstatus = 4006\ntimes = 1\n'
        "then = [{status = 1000}]\n",
        encoding="utf-8",
    )
    as_json = tmp_path / "rules.json"
    as_json.write_text(json.dumps([{"vas_id": "JSONVAS", "status": 4007}]))
    for path in (toml, as_json):
        settings = mmsc_settings.replace(rules_file=str(path))
        async with MockMMSC(settings) as mmsc:
            got = await codes(
                session,
                mmsc.url,
                [
                    lgt_submit("01011112222"),
                    lgt_submit("01033334444"),
                    lgt_submit("01033334444"),
                    lgt_submit("01055556666", vas_id="JSONVAS"),
                ],
            )
        expected = [6014, 4006, 1000, 1000] if path is toml else [1000, 1000, 1000, 4007]
        assert got == expected


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.asyncio
async def test_accounts_6024_6025(mmsc_settings, session):
    accounts = {
        "GOOD": VasAccount(password="secret"),
        "OPEN": VasAccount(),
        "OLD": VasAccount(password="pw", expires_at=datetime.now() - timedelta(days=1)),
    }
    async with MockMMSC(mmsc_settings.replace(accounts=accounts)) as mmsc:
        url = mmsc.url
        assert await codes(
            session, url, [lgt_submit(vas_id="GOOD")], headers=basic("GOOD", "secret")
        ) == [1000]
        assert await codes(
            session, url, [lgt_submit(vas_id="GOOD")], headers=basic("GOOD", "bad")
        ) == [6024]
        assert await codes(session, url, [lgt_submit(vas_id="GOOD")]) == [6024]
        assert await codes(session, url, [lgt_submit(vas_id="NOBODY")]) == [6024]
        assert await codes(session, url, [lgt_submit(vas_id="OPEN")]) == [1000]
        assert await codes(
            session, url, [lgt_submit(vas_id="OLD")], headers=basic("OLD", "pw")
        ) == [6025]
        # the password may also travel in the SubmitReq (as decoded by the codec)
        mmsc.settings.accounts["BODY"] = VasAccount(password="inbody")
        from mm7client.profiles import LGT

        profile = LGT.replace(password_element="AuthPassword")
        request = lgt_submit(vas_id="BODY", auth_password="inbody")
        assert await codes(session, url, [request], profile=profile) == [1000]
        request = lgt_submit(vas_id="BODY", auth_password="wrong")
        assert await codes(session, url, [request], profile=profile) == [6024]
        texts = [m.status_text for m in mmsc.messages]
        assert "Invalid AuthPassword" in texts and "Expired Password" in texts


@pytest.mark.asyncio
async def test_global_basic_auth_401(mmsc_settings, session):
    async with MockMMSC(mmsc_settings.replace(basic_auth=("user", "pass"))) as mmsc:
        answer = await post_mm7(session, mmsc.url, lgt_submit())
        assert answer.http_status == 401
        answer = await post_mm7(session, mmsc.url, lgt_submit(), headers=basic("user", "nope"))
        assert answer.http_status == 401
        answer = await post_mm7(session, mmsc.url, lgt_submit(), headers=basic("user", "pass"))
        assert answer.http_status == 200 and answer.status_code == 1000


@pytest.mark.asyncio
@pytest.mark.parametrize("kisa", [None, "", "12345678", "1234567890", "12345678A"])
async def test_missing_or_malformed_kisa_orig_code_gets_4032(mmsc: MockMMSC, session, kisa):
    from mm7client.codec import encode
    from mm7client.profiles import LGT

    request = lgt_submit(kisa_orig_code="123456789")
    encoded = encode(request, LGT)
    body = encoded.body.replace(
        b"<KisaOrigCode>123456789</KisaOrigCode>",
        b"" if kisa is None else f"<KisaOrigCode>{kisa}</KisaOrigCode>".encode(),
    )
    answer = await post_mm7(session, mmsc.url, body, content_type=encoded.content_type)
    assert answer.status_code == 4032 and answer.status_text == "Kisacode error"


@pytest.mark.asyncio
async def test_contracted_tps_gives_7103_above_the_rate(mmsc_settings, session):
    # under a fake clock no time passes between the requests, however slowly a loaded machine
    # answers them: exactly the contract's burst passes, over HTTP as in real use
    clock = FakeClock(0.0)
    async with MockMMSC(mmsc_settings, clock=clock) as mmsc:
        mmsc.set_tps("VAS001", 5)
        burst = await asyncio.gather(
            *(post_mm7(session, mmsc.url, lgt_submit(delivery_report=False)) for _ in range(12))
        )
        got = [a.status_code for a in burst]
        assert got.count(1000) == 5 and got.count(7103) == 7
        assert {a.status_text for a in burst if a.status_code == 7103} == {"Traffic is over"}
        # another VASID is not limited; paced requests at the contract pass
        other = await codes(session, mmsc.url, [lgt_submit(vas_id="VAS002")] * 8)
        assert other == [1000] * 8
        clock.advance(0.2)  # one token per 200 ms at 5 TPS
        assert await codes(session, mmsc.url, [lgt_submit()]) == [1000]
        assert await codes(session, mmsc.url, [lgt_submit()]) == [7103]


@pytest.mark.asyncio
async def test_default_tps_and_account_tps(mmsc_settings, session):
    settings = mmsc_settings.replace(
        default_tps=2, accounts={"FAST": VasAccount(tps=50), "VAS001": VasAccount()}
    )
    async with MockMMSC(settings) as mmsc:
        slow = await codes(session, mmsc.url, [lgt_submit()] * 4)
        fast = await codes(session, mmsc.url, [lgt_submit(vas_id="FAST")] * 4)
    assert slow == [1000, 1000, 7103, 7103] and fast == [1000] * 4


@pytest.mark.asyncio
async def test_a_fake_clock_drives_contracts_and_windows_over_http(mmsc_settings, session):
    clock = FakeClock(0.0)
    submit = lgt_submit(delivery_report=False)
    async with MockMMSC(mmsc_settings, clock=clock) as mmsc:
        mmsc.set_tps("VAS001", 1)
        assert await codes(session, mmsc.url, [submit] * 2) == [1000, 7103]
        clock.advance(1.0)  # a token, without waiting a second
        assert await codes(session, mmsc.url, [submit]) == [1000]
        mmsc.overload(60, vas_id="VAS001")  # 0.6 s on the fixture's time scale
        assert await codes(session, mmsc.url, [submit] * 2) == [4030, 4030]
        clock.advance(0.5)  # still inside the window, and no token spent inside it
        assert await codes(session, mmsc.url, [submit]) == [4030]
        clock.advance(0.5)  # the window is over and a token is banked again
        assert await codes(session, mmsc.url, [submit] * 2) == [1000, 7103]
    assert mmsc.requests_during_overload("VAS001") == 2


@pytest.mark.asyncio
async def test_overload_window_under_time_scale(mmsc: MockMMSC, session):
    mmsc.overload(60, vas_id="VAS001")  # 0.6 s at time_scale 0.01
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await codes(session, mmsc.url, [lgt_submit()]) == [4030]
    assert mmsc.requests_during_overload("VAS001") == 0
    assert await codes(session, mmsc.url, [lgt_submit(), lgt_submit()]) == [4030, 4030]
    assert mmsc.requests_during_overload("VAS001") == 2
    assert await codes(session, mmsc.url, [lgt_submit(vas_id="VAS002")]) == [1000]
    await asyncio.sleep(max(0.0, 0.65 - (loop.time() - started)))
    assert await codes(session, mmsc.url, [lgt_submit()]) == [1000]
    assert mmsc.requests_during_overload("VAS001") == 2
    assert loop.time() - started < 2.0


@pytest.mark.asyncio
async def test_a_client_that_honours_the_pause_sends_nothing_during_it(mmsc: MockMMSC, session):
    mmsc.overload(30)  # whole server, 0.3 s
    assert await codes(session, mmsc.url, [lgt_submit()]) == [4030]
    await asyncio.sleep(0.35)
    assert await codes(session, mmsc.url, [lgt_submit()]) == [1000]
    assert mmsc.requests_during_overload("VAS001") == 0


@pytest.mark.asyncio
async def test_rule_can_open_an_overload_window(mmsc: MockMMSC, session):
    mmsc.add_rule(Rule(recipient="01040304030", overload=True, overload_seconds=50, times=1))
    got = await codes(session, mmsc.url, [lgt_submit("01040304030"), lgt_submit("01012345678")])
    assert got == [4030, 4030]
    assert mmsc.requests_during_overload("VAS001") == 1


@pytest.mark.asyncio
async def test_report_retries_against_a_failing_receiver(mmsc_settings, session):
    for fail_with in ("http500", "status4000"):
        async with ReportSink(fail_first=3, fail_with=fail_with) as sink:
            settings = mmsc_settings.replace(report_url=sink.url, report_retry_base=1)
            async with MockMMSC(settings) as mmsc:
                await post_mm7(session, mmsc.url, lgt_submit("01088880004"))
                (report,) = await mmsc.wait_for_reports(1, timeout=5)
        assert report.acknowledged and report.attempts == 4 and sink.requests == 4
        assert (report.mm_status, report.status_text) == ("Rejected", "NOK")
        assert len(sink.received) == 1


@pytest.mark.asyncio
async def test_empty_200_counts_as_acknowledged_only_when_allowed(mmsc_settings, session):
    sink = ReportSink(fail_first=1, fail_with="empty200")
    async with sink, MockMMSC(mmsc_settings.replace(report_url=sink.url)) as mmsc:
        await post_mm7(session, mmsc.url, lgt_submit())
        (report,) = await mmsc.wait_for_reports(1)
        assert report.attempts == 1 and report.answer == "empty HTTP 200"
    async with ReportSink(fail_first=1, fail_with="empty200") as sink:
        settings = mmsc_settings.replace(report_url=sink.url, accept_empty_200=False)
        async with MockMMSC(settings) as mmsc:
            await post_mm7(session, mmsc.url, lgt_submit())
            (report,) = await mmsc.wait_for_reports(1)
            assert report.attempts == 2


@pytest.mark.asyncio
async def test_report_to_a_closed_port_is_retried_and_per_vasid_url(mmsc_settings, session):
    async with ReportSink() as sink:
        settings = mmsc_settings.replace(report_url="http://127.0.0.1:9/", report_retry_base=1)
        async with MockMMSC(settings) as mmsc:
            await post_mm7(session, mmsc.url, lgt_submit(vas_id="LOST"))
            (lost,) = await mmsc.wait_for_reports(1, acknowledged=False)
            mmsc.set_report_url("VAS001", sink.url)
            await post_mm7(session, mmsc.url, lgt_submit(vas_id="VAS001"))
            acked = await mmsc.wait_for_reports(1)
            await mmsc.store.wait_until(lambda: lost.attempts >= 2, 2)
    assert acked[0].url == sink.url and len(sink.received) == 1
    assert not lost.acknowledged and lost.attempts >= 2 and lost.last_error


@pytest.mark.asyncio
async def test_pending_reports_survive_a_restart(mmsc_settings, session, tmp_path):
    store = str(tmp_path / "reports.sqlite")
    async with ReportSink(fail_first=10**6) as failing:
        settings = mmsc_settings.replace(
            report_url=failing.url, store_path=store, report_retry_base=1
        )
        async with MockMMSC(settings) as first:
            answers = [
                await post_mm7(session, first.url, lgt_submit(f"0108888000{n}")) for n in (1, 5)
            ]
            for _ in range(200):  # bounded: at most 2 s
                if failing.requests >= 2:
                    break
                await asyncio.sleep(0.01)
        assert failing.requests >= 2
    async with ReportSink() as sink:
        settings = settings.replace(report_url=sink.url)
        async with MockMMSC(settings) as second:
            reports = await second.wait_for_reports(2)
    assert sorted((r.recipient, r.mm_status) for r in reports) == [
        ("01088880001", "Retrieved"),
        ("01088880005", "Stalking"),
    ]
    assert {r.message_id for r in reports} == {a.message.message_id for a in answers}
    assert all(r.attempts >= 2 for r in reports)
    assert sorted(m.message_id for m in sink.received) == sorted(r.message_id for r in reports)
    async with MockMMSC(settings) as third:  # nothing left to resume
        assert third.store.reports == []
