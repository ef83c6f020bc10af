"""``mm7`` help texts (environment variables, real defaults, --version) and the progress model."""

from __future__ import annotations

import argparse
import io

import pytest

from mm7client import __version__
from mm7client.cli import build_parser, main
from mm7client.cli.options import tps_value
from mm7client.cli.progress import BulkProgress, PauseWatch, PlainDisplay, VasView


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def test_every_option_of_every_command_states_its_default() -> None:
    parser = build_parser()
    commands = _subparsers(parser)
    assert set(commands) == {"send", "codes", "receive", "db"}
    db_actions = {f"db {name}": sub for name, sub in _subparsers(commands["db"]).items()}
    assert set(db_actions) == {"db upgrade", "db version"}
    for name, sub in [("mm7", parser), *commands.items(), *db_actions.items()]:
        for action in sub._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            text = action.help or ""
            assert "default" in text, f"{name} {action.option_strings[0]}: {text!r}"


@pytest.mark.parametrize(
    ("command", "option", "expected"),
    [
        ("send", "--vas-id", "[env MM7_VAS_ID; default none (embedded mock: MM7DEMO01)]"),
        ("send", "--url", "[env MM7_URL; default an embedded mock MMSC on 127.0.0.1]"),
        ("send", "--tps", "[env MM7_TPS; default unlimited until the MMSC answers 7103]"),
        ("send", "--concurrency", "[env MM7_CONCURRENCY; default 16]"),
        ("send", "--timeout", "[env MM7_TIMEOUT; default 30.0]"),
        ("send", "--transport", "[env MM7_TRANSPORT; default http11]"),
        ("receive", "--port", "[env MM7_RECEIVER_PORT; default 8080]"),
    ],
)
def test_help_names_the_variable_and_the_real_default(
    command: str, option: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MM7_RECEIVER_PORT", "9999")  # the environment's value is not "the default"
    sub = _subparsers(build_parser())[command]
    [action] = [a for a in sub._actions if option in a.option_strings]
    assert (action.help or "").endswith(expected)
    if option == "--port":
        assert sub.parse_args([]).port == 9999


def test_the_transport_comes_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mm7client.cli.options import client_options

    sub = _subparsers(build_parser())["send"]
    assert client_options(sub.parse_args([]))["transport"] == "http11"
    assert client_options(sub.parse_args(["--transport", "aiohttp"]))["transport"] == "aiohttp"
    monkeypatch.setenv("MM7_TRANSPORT", "aiohttp")
    sub = _subparsers(build_parser())["send"]
    assert client_options(sub.parse_args([]))["transport"] == "aiohttp"
    with pytest.raises(SystemExit):
        sub.parse_args(["--transport", "curl"])
    assert "invalid choice: 'curl'" in capsys.readouterr().err


def test_a_bad_value_in_the_environment_is_reported_naming_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MM7_TPS", "fast")
    with pytest.raises(SystemExit):
        main(["send", "--to", "01012345678"])
    assert "argument --tps: 'fast': expected TPS or VASID=TPS" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50", 50.0), ("2.5", 2.5), ("SVC=50, OTHER=10", {"SVC": 50.0, "OTHER": 10.0})],
)
def test_tps_is_one_contract_or_one_per_vasid(text: str, expected: object) -> None:
    assert tps_value(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "nan", "SVC=", "=5", "SVC=5,7", "5,SVC=5", "x"])
def test_a_bad_tps_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        tps_value(text)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"mm7 {__version__}\n"


# -- progress ----------------------------------------------------------------------------------


def test_progress_counts_rate_and_eta() -> None:
    progress = BulkProgress(100, now=0.0, window=10.0)
    progress.add_earlier("success")
    for second in range(1, 11):
        for _ in range(5):
            progress.sending()
            progress.finished("success", float(second))
    progress.finished("failed", 10.0, invalid=True, sent=False)
    assert progress.done == 52
    assert progress.in_flight == 0
    assert progress.rate(10.0) == pytest.approx(5.1)
    assert progress.eta(10.0) == pytest.approx(48 / 5.1)
    assert not progress.all_succeeded
    assert progress.counts_text() == (
        "success 51 · failed 1 (invalid 1) · retry 0 · throttled 0 · unknown 0"
    )
    assert progress.headline(10.0) == (
        "52/100 rows (52%) (1 from an earlier run) · 5.1/s · ETA 0:09 · 0 in flight"
    )
    assert BulkProgress(None, now=0.0).eta(1.0) is None


def _view(**changes: object) -> VasView:
    values: dict[str, object] = {
        "vas_id": "SVC",
        "sent": 10,
        "pauses": 0,
        "throttled_7103": 0,
        "slowed_down": 0,
        "resends": 0,
        "pause_left": 0.0,
        "rate": 50.0,
        "contract": 50.0,
    }
    values.update(changes)
    return VasView(**values)  # type: ignore[arg-type]


def test_the_state_of_a_vasid_reads_like_a_sentence() -> None:
    assert _view().describe(20) == "SVC sending at up to 50 TPS (10 requests)"
    assert _view(pauses=3, throttled_7103=1).describe(20) == (
        "SVC sending at up to 50 TPS (10 requests; 4030 x3, 7103 x1)"
    )
    assert _view(pauses=2, resends=9, pause_left=42.4).describe(20) == (
        "SVC paused 42 s after 4030 (pause 2, 9 resends so far; up to 20 per message)"
    )
    assert _view(rate=12.5, throttled_7103=3).describe(20) == (
        "SVC slowed to 12.5 TPS after 7103 x3 (contract 50)"
    )


def test_a_fleet_wide_state_says_so() -> None:
    assert _view(shared=True).describe(20) == (
        "SVC sending at up to 50 TPS (fleet-wide) (10 requests)"
    )
    assert _view(shared=True, pause_left=5.0).describe(20) == (
        "SVC paused 5.0 s after 4030 (fleet-wide) (pause 0, 0 resends so far; up to 20 per message)"
    )
    assert _view(shared=True, rate=25.0).describe(20) == (
        "SVC slowed to 25.0 TPS after 7103 (fleet-wide) x0 (contract 50)"
    )
    held = _view(shared=True, held="Redis unreachable: holding until it is back")
    assert held.describe(20) == "SVC Redis unreachable: holding until it is back"


def test_each_new_pause_and_slow_down_is_noted_once() -> None:
    watch = PauseWatch(20)
    assert watch.notices([_view()]) == []
    [line] = watch.notices([_view(pauses=1, pause_left=60.0)])
    assert line == (
        "VASID SVC answered 4030 (MMSC overloaded): sending paused 60 s, then the refused "
        "message is resent (pause 1; up to 20 resends per message)"
    )
    assert watch.notices([_view(pauses=1, pause_left=59.0)]) == []
    [line] = watch.notices([_view(pauses=1, slowed_down=1, rate=25.0)])
    assert "answered 7103 (over its contracted TPS): rate lowered to 25.0 TPS" in line


def test_plain_display_writes_a_line_per_interval() -> None:
    stream = io.StringIO()
    display = PlainDisplay(20, interval=5.0, stream=stream)
    progress = BulkProgress(10, now=0.0)
    for now in (0.0, 1.0, 4.9, 5.0, 6.0, 10.0):
        display.update(progress, [_view(pauses=1, pause_left=30.0)], now)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("mm7 send: 0/10 rows (0%)")
    assert lines[0].endswith(
        "SVC paused 30 s after 4030 (pause 1, 0 resends so far; up to 20 per message)"
    )
