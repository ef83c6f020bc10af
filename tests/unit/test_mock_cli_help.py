"""``mockmmsc`` help texts: every option of ``serve`` names its environment variable (which
works) and its real default; the magic 4030 recipient is explained where magic numbers are."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import pytest

from mm7client.cli.server_options import SERVER_LIMIT_FIELDS
from mm7client.codes import normalize_submit_status
from mm7client.throttle import RetryPolicy
from mockmmsc.cli import build_parser, example_config, main, settings_from_args
from mockmmsc.settings import ENV_PREFIX

README = Path(__file__).resolve().parents[2] / "README.md"


def _serve() -> argparse.ArgumentParser:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices["serve"]
    raise AssertionError("no serve command")


def _options() -> list[argparse.Action]:
    return [a for a in _serve()._actions if a.option_strings and a.dest != "help"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


#: A value for each option's variable, and the setting it must give.
ENV_VALUES: dict[str, tuple[str, str, object]] = {
    "--host": ("127.0.0.2", "host", "127.0.0.2"),
    "--port": ("9999", "port", 9999),
    "--profile": ("3gpp", "profile", "3gpp"),
    "--answer-form": ("default-ns", "answer_form", "default-ns"),
    "--time-scale": ("0.5", "time_scale", 0.5),
    "--report-url": ("http://127.0.0.1:1/r", "report_url", "http://127.0.0.1:1/r"),
    "--rules": ("rules.toml", "rules_file", "rules.toml"),
    "--store": ("reports.sqlite3", "store_path", "reports.sqlite3"),
    "--default-tps": ("3", "default_tps", 3.0),
    "--max-body-bytes": ("1000", "max_body_bytes", 1000),
    "--basic-auth": ("user:pw", "basic_auth", ("user", "pw")),
    "--no-kisa": ("", "require_kisa", False),
    "--check-content": ("", "check_content", True),
    "--config": ("", "default_tps", 10.0),  # the example config's
    **{
        "--" + name.replace("_", "-"): ("7", name, kind(7))
        for name, kind, _help in SERVER_LIMIT_FIELDS
    },
}


def test_serve_has_a_description_naming_the_config_example() -> None:
    description = _serve().description or ""
    assert "MM7" in description and "mockmmsc example-config" in description


@pytest.mark.parametrize("action", _options(), ids=lambda a: a.option_strings[-1])
def test_every_serve_option_states_its_default_and_variable(
    action: argparse.Action, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = action.option_strings[-1]
    text = " ".join((action.help or "").split())
    assert re.search(r"default [^\]]+\]$", text), f"{flag}: {text!r}"
    if flag == "--verbose":
        return  # logging only: no setting, no variable
    found = re.search(rf"\[env ({ENV_PREFIX}\w+)(?:=(\w+))?;", text)
    assert found, f"{flag} names no {ENV_PREFIX}* variable: {text!r}"
    if flag == "--log-format":  # logging only: the variable sets the option, no setting
        monkeypatch.setenv(found.group(1), "json")
        assert build_parser().parse_args(["serve"]).log_format == "json"
        return
    value, field, expected = ENV_VALUES[flag]
    if flag == "--config":
        value = str(tmp_path / "mock.toml")
        (tmp_path / "mock.toml").write_text(example_config(), "utf-8")
    monkeypatch.setenv(found.group(1), found.group(2) or value)
    settings = settings_from_args(build_parser().parse_args(["serve"]))
    assert getattr(settings, field) == expected, f"{found.group(1)} did not set {field}"


@pytest.mark.parametrize(
    ("flag", "field", "stated"),
    [
        ("--time-scale", "time_scale", "1.0"),
        ("--port", "port", "8080"),
        ("--host", "host", "127.0.0.1"),
        ("--profile", "profile", "lgt"),
        ("--max-body-bytes", "max_body_bytes", "2097152"),
    ],
)
def test_the_stated_default_is_the_real_one(flag: str, field: str, stated: str) -> None:
    (action,) = [a for a in _options() if flag in a.option_strings]
    assert (action.help or "").endswith(f"; default {stated}]")
    assert str(getattr(settings_from_args(build_parser().parse_args(["serve"])), field)) == stated


@pytest.mark.parametrize("field", [name for name, _kind, _help in SERVER_LIMIT_FIELDS])
def test_the_connection_bounds_state_the_mocks_defaults(field: str) -> None:
    (action,) = [a for a in _options() if a.dest == field]
    value = getattr(settings_from_args(build_parser().parse_args(["serve"])), field)
    if value is not None:  # max_connections: None, explained in words
        assert " ".join((action.help or "").split()).endswith(f"; default {value:g}]")


def test_the_unset_defaults_say_what_unset_means() -> None:
    settings = settings_from_args(build_parser().parse_args(["serve"]))
    assert (settings.report_url, settings.store_path, settings.default_tps) == (None, None, None)
    helps = {a.option_strings[-1]: " ".join((a.help or "").split()) for a in _options()}
    assert helps["--report-url"].endswith("default none: reports are not sent]")
    assert helps["--store"].endswith("default none: in memory]")
    assert helps["--default-tps"].endswith("default unlimited]")


def test_the_4030_recipient_says_it_pauses_the_whole_vasid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pause = normalize_submit_status(4030).pause_seconds
    resends = RetryPolicy().max_throttled_resends
    assert (pause, resends) == (60, 20)
    for argv in (["--help"], ["serve", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        text = " ".join(capsys.readouterr().out.split())
        assert "01099994030 4030 every time" in text
        assert f"pauses the WHOLE VASID 60 s before each resend, up to {resends} resends" in text
    readme = " ".join(README.read_text("utf-8").split())
    assert "`01099994030`" in readme
    assert f"pauses the **whole VASID** for 60 s before each resend, up to {resends} resends" in (
        readme
    )


def test_example_config_prints_the_packaged_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example-config"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# A complete configuration of the mock MMSC")
    assert "[accounts.MYSERVICE]" in printed and "[[rules]]" in printed
