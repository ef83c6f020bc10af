"""The mock's connection bounds: settings fields, ``MOCKMMSC_*`` variables and ``mockmmsc serve``
options that make one :class:`~mm7client.server.ServerLimits`."""

from __future__ import annotations

import pytest

from mm7client.server import ServerLimits
from mockmmsc.cli import build_parser, settings_from_args
from mockmmsc.settings import MockSettings, SettingsError


def test_the_mock_defaults_are_the_shared_defaults() -> None:
    assert MockSettings().server_limits == ServerLimits()


def test_limits_from_the_environment_and_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOCKMMSC_HEADER_TIMEOUT", "2")
    monkeypatch.setenv("MOCKMMSC_MAX_CONNECTIONS", "auto")
    monkeypatch.setenv("MOCKMMSC_IDLE_TIMEOUT", "9")
    args = build_parser().parse_args(
        ["serve", "--idle-timeout", "4", "--max-connections", "64", "--body-grace", "3"]
    )
    limits = settings_from_args(args).server_limits
    assert (limits.header_timeout, limits.idle_timeout) == (2.0, 4.0)  # options win
    assert (limits.max_connections, limits.body_grace) == (64, 3.0)
    assert MockSettings.from_env({"MOCKMMSC_MAX_CONNECTIONS": "auto"}).max_connections is None


@pytest.mark.parametrize(
    "changes", [{"header_timeout": 0.0}, {"body_min_rate": -1.0}, {"max_connections": 0}]
)
def test_a_bad_limit_is_a_settings_error_naming_it(changes: dict[str, float]) -> None:
    with pytest.raises(SettingsError, match=next(iter(changes))):
        MockSettings(**changes)  # type: ignore[arg-type]
