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


# -- security: half a credential, an unprotected public address ---------------------------------


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--user", "carrier"], "the password is missing"),
        (["--password", "s3cret"], "the user is missing"),
        (["--user", "carrier", "--password", ""], "the password is empty"),
        (["--user", "", "--password", "s3cret"], "the user is empty"),
    ],
)
def test_half_a_credential_refuses_to_start(
    options: list[str],
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("USER", "PASSWORD"):
        monkeypatch.delenv(f"MM7_RECEIVER_{name}", raising=False)
    store = tmp_path / "rx.sqlite"
    args = build_parser().parse_args(["receive", "--port", "0", "--store", str(store), *options])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("mm7 receive: ") and problem in err
    assert not store.exists()  # refused before anything was opened


def test_a_password_from_the_environment_alone_refuses_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MM7_RECEIVER_USER", raising=False)
    monkeypatch.setenv("MM7_RECEIVER_PASSWORD", "s3cret")
    args = build_parser().parse_args(["receive", "--port", "0", "--store", str(tmp_path / "x")])
    assert args.func(args) == 2
    assert "the user is missing" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_a_public_address_without_auth_or_allow_list_needs_insecure(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("USER", "PASSWORD", "ALLOW_IPS", "INSECURE"):
        monkeypatch.delenv(f"MM7_RECEIVER_{name}", raising=False)
    args = build_parser().parse_args(
        ["receive", "--host", host, "--port", "0", "--store", str(tmp_path / "rx.sqlite")]
    )
    assert args.insecure is False
    assert args.func(args) == 2  # refused before binding anything
    err = capsys.readouterr().err
    assert "neither HTTP Basic auth nor an IP allow-list" in err and "--insecure" in err
    assert not (tmp_path / "rx.sqlite").exists()  # nor opening the store


def test_insecure_is_an_option_and_an_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MM7_RECEIVER_INSECURE", raising=False)
    assert build_parser().parse_args(["receive", "--insecure"]).insecure is True
    monkeypatch.setenv("MM7_RECEIVER_INSECURE", "1")
    assert build_parser().parse_args(["receive"]).insecure is True


@pytest.mark.asyncio
async def test_the_receiver_says_it_is_insecure_or_protected() -> None:
    from mm7client.receiver import ReceiverServer, SqliteStore

    async with SqliteStore(":memory:") as store:
        # constructed, never started: tests bind loopback only
        insecure = ReceiverServer(store, host="0.0.0.0", insecure=True)
        assert insecure.exposure is not None and "'0.0.0.0'" in insecure.exposure
        with pytest.raises(ValueError, match="insecure=True"):
            ReceiverServer(store, host="0.0.0.0")
        assert ReceiverServer(store, host="0.0.0.0", basic_auth=("u", "p")).exposure is None
        assert ReceiverServer(store, host="::", allow_ips=["10.0.0.0/8"]).exposure is None
        assert ReceiverServer(store, host="127.0.0.1").exposure is None


# -- timeouts and limits ------------------------------------------------------------------------


def test_timeouts_and_limits_from_options_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mm7client.cli.receive import ENV_PREFIX
    from mm7client.cli.server_options import server_limits_from_args
    from mm7client.server import ServerLimits

    monkeypatch.setenv("MM7_RECEIVER_HEADER_TIMEOUT", "2")
    monkeypatch.setenv("MM7_RECEIVER_IDLE_TIMEOUT", "7")
    args = build_parser().parse_args(
        ["receive", "--idle-timeout", "3", "--max-connections", "50", "--body-min-rate", "100"]
    )
    limits = server_limits_from_args(args, ServerLimits.from_env(ENV_PREFIX))
    assert (limits.header_timeout, limits.idle_timeout) == (2.0, 3.0)
    assert (limits.max_connections, limits.body_min_rate) == (50, 100.0)
    assert limits.body_timeout == ServerLimits().body_timeout


def test_a_bad_limit_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "rx.sqlite")
    args = build_parser().parse_args(["receive", "--port", "0", "--store", store])
    monkeypatch.setenv("MM7_RECEIVER_HEADER_TIMEOUT", "soon")
    assert args.func(args) == 2
    assert "MM7_RECEIVER_HEADER_TIMEOUT='soon'" in capsys.readouterr().err
    monkeypatch.delenv("MM7_RECEIVER_HEADER_TIMEOUT")
    args = build_parser().parse_args(
        ["receive", "--port", "0", "--store", store, "--idle-timeout", "0"]
    )
    assert args.func(args) == 2
    assert "--idle-timeout=0" in capsys.readouterr().err


def test_the_answer_form_is_an_option_and_an_environment_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MM7_RECEIVER_ANSWER_FORM", raising=False)
    assert build_parser().parse_args(["receive"]).answer_form == "mirror"
    assert build_parser().parse_args(["receive", "--answer-form", "lgt"]).answer_form == "lgt"
    monkeypatch.setenv("MM7_RECEIVER_ANSWER_FORM", "default-ns")
    assert build_parser().parse_args(["receive"]).answer_form == "default-ns"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["receive", "--answer-form", "xml"])
    assert "invalid choice: 'xml'" in capsys.readouterr().err
