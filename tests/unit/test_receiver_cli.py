"""``mm7 receive``: argument parsing, environment defaults and start-up failures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mm7client.cli import build_parser


def test_receive_sub_command_is_registered_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "STORE", "USER", "PASSWORD", "ALLOW_IPS"):
        monkeypatch.delenv(f"MM7_RECEIVER_{name}", raising=False)
    args = build_parser().parse_args(["receive"])
    assert (args.host, args.port, args.store) == ("127.0.0.1", 8080, "mm7-receiver.sqlite")
    assert (args.path, args.profile, args.synchronous) == ("/", "lgt", "FULL")
    assert args.user is None and args.password is None and args.allow_ip is None


def test_receive_options_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM7_RECEIVER_PORT", "9099")
    monkeypatch.setenv("MM7_RECEIVER_STORE", "/data/rx.sqlite")
    monkeypatch.setenv("MM7_RECEIVER_PASSWORD", "pw")
    args = build_parser().parse_args(
        ["receive", "--host", "127.0.0.1", "--allow-ip", "10.0.0.0/8", "--allow-ip", "127.0.0.1"]
    )
    assert (args.port, args.store, args.password) == (9099, "/data/rx.sqlite", "pw")
    assert args.allow_ip == ["10.0.0.0/8", "127.0.0.1"]


def test_an_occupied_port_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        store = tmp_path / "rx.sqlite"
        args = build_parser().parse_args(["receive", "--port", str(port), "--store", str(store)])
        assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mm7 receive: ") and str(port) in err


def test_a_bad_allow_list_entry_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(
        ["receive", "--port", "0", "--store", str(tmp_path / "rx.sqlite"), "--allow-ip", "nope"]
    )
    assert args.func(args) == 2
    assert "'nope'" in capsys.readouterr().err
