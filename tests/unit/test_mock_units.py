"""Unit tests of the mock's pure parts: magic numbers, rules, token bucket, windows, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mm7client.throttle import FakeClock
from mockmmsc.cli import build_parser, settings_from_args
from mockmmsc.scenarios import Rule, RuleBook, magic_report, magic_status, normalize_number
from mockmmsc.settings import MockSettings, SettingsError, VasAccount, load_config
from mockmmsc.throttle import OverloadWindows, TpsContracts


@pytest.mark.parametrize(
    "number,status,report",
    [
        ("01099994030", 4030, None),
        ("+82 10-9999-7103", 7103, None),
        ("01099990999", None, None),
        ("01088880001", None, ("Retrieved", "OK")),
        ("01088880008", None, ("NoRecipient", "NOK")),
        ("01088880009", None, None),
        ("01012345678", None, None),
    ],
)
def test_magic_numbers(number, status, report):
    assert magic_status(number) == status
    assert magic_report(number) == report


def test_normalize_number():
    assert normalize_number("+82-10-1234-5678") == "01012345678"
    assert normalize_number("010 1234 5678") == "01012345678"


def test_sequence_steps_and_exhaustion():
    book = RuleBook()
    book.add(Rule(recipient="0101*", status=4006, times=2, then=[{"status": 3000, "times": 1}]))
    got = []
    for _ in range(4):
        decision = book.choose("SubmitReq", "V", ["01012345678"], None, [], book.random.random)
        if decision is not None:
            book.count_hit(decision.rule_id)
        got.append(decision.action.status if decision else None)
    assert got == [4006, 4006, 3000, None]


def test_rule_validation_names_the_field():
    with pytest.raises(SettingsError, match="status=5"):
        Rule(status=5)
    with pytest.raises(SettingsError, match="probability"):
        Rule(probability=2)
    with pytest.raises(SettingsError, match="unknown field"):
        Rule.from_dict({"bogus": 1})
    with pytest.raises(SettingsError, match="bad regex"):
        Rule(recipient="re:(")


def test_rule_round_trips_through_dict():
    rule = Rule.from_dict({"vas_id": "X", "status": 4030, "times": 1, "then": [{"status": 1000}]})
    again = Rule.from_dict({k: v for k, v in rule.to_dict().items() if k != "hits"})
    assert again.to_dict() == rule.to_dict()


def test_tps_contract_banks_one_seconds_worth():
    tps = TpsContracts()
    tps.set("V", 2)

    def send(now: float) -> bool:
        if not tps.within("V", now):
            return False
        tps.spend("V", now)
        return True

    assert [send(0.0) for _ in range(3)] == [True, True, False]
    assert send(0.49) is False
    assert send(0.5) is True


def test_tps_contracts_per_vasid():
    tps = TpsContracts(default_tps=None)
    assert not tps.limited("ANY") and tps.within("ANY", 100.0)
    tps.set("V", 1)
    assert tps.within("V", 100.0)
    tps.spend("V", 100.0)
    assert not tps.within("V", 100.0)  # asking spends nothing
    assert not tps.within("V", 100.5)
    tps.refuse("V")
    assert tps.within("V", 101.0) and tps.refused == {"V": 1}
    with pytest.raises(ValueError, match="tps=0"):
        tps.set("V", 0)


def test_overload_windows_count_requests_after_the_first_4030():
    clock = FakeClock(100.0)
    windows = OverloadWindows(clock)
    windows.start(60, "V")

    def answer(vas_id: str) -> bool:
        hit = windows.hit(vas_id, clock.now())
        if hit is not None:
            windows.note(vas_id, hit)
        return hit is not None

    assert answer("V") and windows.requests_during_overload("V") == 0
    assert answer("V") and windows.requests_during_overload("V") == 1
    assert not answer("W")
    clock.advance(61)
    assert not answer("V") and windows.requests_during_overload("V") == 1
    windows.start(10)  # whole server
    assert answer("W") and answer("W")
    assert windows.requests_during_overload("W") == 1


def test_settings_from_env_and_config(tmp_path):
    env = {
        "MOCKMMSC_PORT": "9999",
        "MOCKMMSC_TIME_SCALE": "0.5",
        "MOCKMMSC_BASIC_AUTH": "u:p",
        "MOCKMMSC_REQUIRE_KISA": "false",
        "MOCKMMSC_CHECK_CONTENT": "1",
        "MOCKMMSC_ACCOUNTS": '{"V": {"password": "x", "tps": 3}}',
    }
    settings = MockSettings.from_env(env)
    assert (settings.port, settings.time_scale, settings.basic_auth) == (9999, 0.5, ("u", "p"))
    assert settings.require_kisa is False and settings.check_content is True
    assert MockSettings().check_content is False
    args = build_parser().parse_args(["serve", "--check-content"])
    assert settings_from_args(args).check_content is True
    assert settings.accounts == {"V": VasAccount(password="x", tps=3.0)}
    config = tmp_path / "mock.toml"
    config.write_text(
        'report_url = "http://127.0.0.1:1/"\n[accounts.A]\npassword = "pw"\n'
        'expires_at = "2000-01-01T00:00:00+09:00"\n[[rules]]\nstatus = 4030\n'
    )
    loaded = load_config(config)
    assert loaded.accounts["A"].expired() and loaded.rules == [{"status": 4030}]
    with pytest.raises(SettingsError, match="unknown setting"):
        MockSettings.from_env({}, base=None) and load_config(_write(tmp_path, "x = 1\n"))
    with pytest.raises(SettingsError, match="time_scale"):
        MockSettings(time_scale=-1)


def _write(tmp_path, text):
    path = tmp_path / "other.toml"
    path.write_text(text)
    return path


def test_pytest_plugin_imports_cheaply():
    code = (
        "import sys; import mockmmsc.pytest_plugin, mockmmsc; "
        "heavy = [m for m in ('aiohttp', 'lxml', 'mockmmsc.app') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
