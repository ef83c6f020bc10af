"""Settings of the mock MMSC: one dataclass, from arguments, a config file or the environment.

This module imports nothing heavy (no aiohttp, no lxml) so the pytest plugin can import it cheaply.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mm7client.server import ServerLimits

__all__ = [
    "ANSWER_FORMS",
    "ENV_PREFIX",
    "ConflictError",
    "MockSettings",
    "SettingsError",
    "VasAccount",
    "load_config",
]

#: Environment variables ``MOCKMMSC_<FIELD>`` (upper case) override the defaults.
ENV_PREFIX = "MOCKMMSC_"
#: Values of ``answer_form`` (:data:`mm7client.server.ANSWER_FORMS`, repeated here so this module
#: loads no codec): ``mirror`` answers in the form each request arrived in; the others force
#: that style (see :class:`mm7client.model.MessageForm`).
ANSWER_FORMS = ("mirror", "lgt", "default-ns", "prefixed")


class SettingsError(ValueError):
    """A setting, config file or rule has a bad value; the message names it."""


class ConflictError(SettingsError):
    """A rule or fault that cannot be added as things stand (its id is taken, the book is
    full); the API answers it 409."""


@dataclass(frozen=True, slots=True)
class VasAccount:
    """One VASID of the accounts registry.

    Attributes:
        password: the CP password (HTTP Basic auth password, username = VASID; or the
            ``AuthPassword`` element when the SubmitReq carries one). ``None`` accepts any.
        expires_at: when the password expires (timezone-aware or naive local time); after it
            every request of this VASID gets 6025.
        tps: the contracted TPS of this VASID (``None``: the server's ``default_tps``).
        report_url: where delivery reports of this VASID go (overrides ``report_url``).
    """

    password: str | None = None
    expires_at: datetime | None = None
    tps: float | None = None
    report_url: str | None = None

    def expired(self, now: datetime | None = None) -> bool:
        """True when the password's validity has ended."""
        if self.expires_at is None:
            return False
        if self.expires_at.tzinfo is None:
            return (now or datetime.now()).replace(tzinfo=None) >= self.expires_at
        current = now or datetime.now().astimezone()
        if current.tzinfo is None:
            current = current.astimezone()
        return current >= self.expires_at


@dataclass(slots=True)
class MockSettings:
    """Everything that configures a :class:`mockmmsc.MockMMSC`.

    Attributes:
        host: listen address (tests: always ``127.0.0.1``).
        port: listen port; 0 picks a free one.
        profile: carrier profile used to ENCODE answers and reports (decoding accepts any form).
        answer_form: the form of the answers (Rsps and faults): ``"mirror"`` (default) answers
            in the form each request arrived in (its MM7 namespace, MM7Version, prefixed or
            unqualified children); ``"lgt"``, ``"default-ns"`` or ``"prefixed"`` force that
            style, keeping the request's namespace and MM7Version, so a VASP can rehearse
            reading each form (a body that could not be read is answered in the profile's
            form, or the forced style of it). The receiver follows the same rule.
        time_scale: multiplies every delay, window, pause and report backoff
            (0.01 -> a 60 s 4030 window lasts 0.6 s). TPS contracts are rates and are not scaled.
        report_url: default delivery-report URL.
        report_urls: per-VASID delivery-report URLs.
        accounts: registry of VASIDs; ``None`` accepts any VASID without a password.
        default_tps: contracted TPS of every VASID without its own; ``None`` = unlimited.
        basic_auth: ``(user, password)`` required on every MM7 request (401 without).
        require_kisa: a missing or malformed KisaOrigCode gets 4032 (under the lgt profile).
        max_body_bytes: largest MM7 request body accepted (larger: HTTP 413 + fault 2004).
        check_content: decode the whole message before answering, so content that cannot
            be decoded (invalid base64, a malformed part header, too deeply nested) gets fault
            2007 like a malformed envelope. Off by default: the answer comes from the
            envelope's fields (``summarize_request``) and the message is decoded when first
            looked at (undecodable content then shows as the request's ``content_error``).
            Costs a full decode per request (a 50 KB image: about three times the work of the
            rest of the request).
        store_path: sqlite file keeping delivery reports (pending ones resume on restart).
        rules_file: TOML or JSON rule file loaded at start.
        rules: rules (``Rule`` objects or dicts) added at start, after ``rules_file``'s.
        relay_server_id: ``MMSRelayServerID`` written in delivery reports.
        report_delay: default seconds between the SubmitRsp and its delivery report.
        report_retry_base: first retry backoff in seconds (doubles each attempt).
        report_retry_max: longest backoff between two attempts.
        report_max_attempts: give up after this many attempts (``None``: keep until acknowledged).
        report_timeout: HTTP timeout of one report POST (real seconds, not scaled).
        report_expiry: a report not acknowledged this many real seconds after it was made is
            no longer retried: it is marked ``expired`` (``None``: retried until acknowledged
            or ``report_max_attempts``).
        accept_empty_200: count an empty HTTP 200 answer to a report as acknowledged (LGT peers).
        overload_seconds: length of the 4030 window a rule with ``overload=true`` opens.
        max_stored_messages: received requests kept in memory (oldest dropped first).
        max_stored_bytes: total raw bytes of stored requests kept in memory.
        max_stored_reports: delivery-report records kept in memory (settled ones dropped first,
            oldest first; when all are pending, the oldest is marked ``expired``).
        random_seed: seed of the rules' probability draws (``None``: unpredictable).
        faults: global faults (:class:`mockmmsc.faults.Fault` objects, dicts or kind names)
            applied to every MM7 request they match (see :mod:`mockmmsc.faults`).
        fault_max_hold: longest a ``no_answer`` fault holds a connection (real seconds, not
            scaled); stopping the mock ends every hold at once.
        header_timeout, idle_timeout, body_timeout, body_min_rate, body_grace,
        max_connections, accept_error_interval: how long a connection may take to send its
            header and body, stay idle, how many are served at once, how often accept errors
            are logged (real seconds, not scaled): :attr:`server_limits`, see
            :class:`mm7client.server.ServerLimits` for the defaults' meaning.
    """

    host: str = "127.0.0.1"
    port: int = 0
    profile: str = "lgt"
    answer_form: str = "mirror"
    time_scale: float = 1.0
    report_url: str | None = None
    report_urls: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, VasAccount] | None = None
    default_tps: float | None = None
    basic_auth: tuple[str, str] | None = None
    require_kisa: bool = True
    max_body_bytes: int = 2 * 1024 * 1024
    check_content: bool = False
    store_path: str | None = None
    rules_file: str | None = None
    rules: list[Any] = field(default_factory=list)
    relay_server_id: str = "LGUPLUS-MMSC"
    report_delay: float = 1.0
    report_retry_base: float = 2.0
    report_retry_max: float = 300.0
    report_max_attempts: int | None = None
    report_timeout: float = 10.0
    report_expiry: float | None = 24 * 3600.0
    accept_empty_200: bool = True
    overload_seconds: float = 60.0
    max_stored_messages: int = 5000
    max_stored_bytes: int = 256 * 1024 * 1024
    max_stored_reports: int = 50_000
    random_seed: int | None = None
    faults: list[Any] = field(default_factory=list)
    fault_max_hold: float = 30.0
    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    body_timeout: float = 120.0
    body_min_rate: float = 500.0
    body_grace: float = 10.0
    max_connections: int | None = None
    accept_error_interval: float = 10.0

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise SettingsError(f"time_scale={self.time_scale!r}: must be >= 0")
        if self.answer_form not in ANSWER_FORMS:
            raise SettingsError(
                f"answer_form={self.answer_form!r}: expected one of {', '.join(ANSWER_FORMS)}"
            )
        for name in ("max_stored_messages", "max_stored_reports"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}={getattr(self, name)!r}: must be >= 1")
        if self.report_expiry is not None and not self.report_expiry > 0:
            raise SettingsError(f"report_expiry={self.report_expiry!r}: must be > 0 or None")
        if self.max_body_bytes <= 0:
            raise SettingsError(f"max_body_bytes={self.max_body_bytes!r}: must be > 0")
        if not self.fault_max_hold >= 0:
            raise SettingsError(f"fault_max_hold={self.fault_max_hold!r}: must be >= 0")
        for name in _POSITIVE_FIELDS:
            if not getattr(self, name) > 0:
                raise SettingsError(f"{name}={getattr(self, name)!r}: must be > 0")
        if self.max_connections is not None and self.max_connections < 1:
            raise SettingsError(f"max_connections={self.max_connections!r}: must be >= 1")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port={self.port!r}: must be 0..65535")
        if self.default_tps is not None and self.default_tps <= 0:
            raise SettingsError(f"default_tps={self.default_tps!r}: must be > 0 or None")
        if self.basic_auth is not None:
            if len(self.basic_auth) != 2:
                raise SettingsError(f"basic_auth={self.basic_auth!r}: expected (user, password)")
            self.basic_auth = (str(self.basic_auth[0]), str(self.basic_auth[1]))

    @property
    def server_limits(self) -> ServerLimits:
        """The connection and body-read bounds of these settings, for
        :class:`mm7client.http_server.AppServer` and the endpoint's body read."""
        from mm7client.server import ServerLimits  # loads the codec: not at import time

        return ServerLimits(
            header_timeout=self.header_timeout,
            idle_timeout=self.idle_timeout,
            body_timeout=self.body_timeout,
            body_min_rate=self.body_min_rate,
            body_grace=self.body_grace,
            max_connections=self.max_connections,
            accept_error_interval=self.accept_error_interval,
        )

    def scaled(self, seconds: float) -> float:
        """``seconds`` multiplied by the time scale."""
        return max(0.0, seconds * self.time_scale)

    def replace(self, **changes: Any) -> MockSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, base: MockSettings | None = None
    ) -> MockSettings:
        """``base`` (or the defaults) overridden by ``MOCKMMSC_*`` environment variables.

        Scalars are read as their field's type; ``MOCKMMSC_BASIC_AUTH`` is ``user:password``;
        ``MOCKMMSC_REPORT_URLS`` and ``MOCKMMSC_ACCOUNTS`` are JSON objects.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or f.name in ("rules", "faults"):
                continue
            values[f.name] = _parse_env_value(f.name, raw)
        settings = base or cls()
        return _apply(settings, values) if values else settings


_INT_FIELDS = {
    "port",
    "max_body_bytes",
    "max_stored_messages",
    "max_stored_bytes",
    "max_stored_reports",
}
_OPTIONAL_INT_FIELDS = {"report_max_attempts", "random_seed", "max_connections"}
#: The connection bounds (:attr:`MockSettings.server_limits`), each > 0.
_POSITIVE_FIELDS = (
    "header_timeout",
    "idle_timeout",
    "body_timeout",
    "body_min_rate",
    "body_grace",
    "accept_error_interval",
)
_FLOAT_FIELDS = {
    "time_scale",
    "report_delay",
    "report_retry_base",
    "report_retry_max",
    "report_timeout",
    "overload_seconds",
    "fault_max_hold",
    *_POSITIVE_FIELDS,
}
_OPTIONAL_FLOAT_FIELDS = {"default_tps", "report_expiry"}
_BOOL_FIELDS = {"require_kisa", "accept_empty_200", "check_content"}
_OPTIONAL_STR_FIELDS = {"report_url", "store_path", "rules_file"}


def _parse_bool(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected a boolean")


def _parse_env_value(name: str, raw: str) -> Any:
    if name == "basic_auth":
        user, sep, password = raw.partition(":")
        if not sep:
            raise SettingsError(f"{ENV_PREFIX}BASIC_AUTH={raw!r}: expected user:password")
        return (user, password)
    if name in ("report_urls", "accounts"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r}: not JSON ({exc})") from exc
    return raw


def _coerce(name: str, value: Any) -> Any:
    """Convert a config or environment value to the type of field ``name``."""
    try:
        if name in _INT_FIELDS:
            return int(value)
        if name in _OPTIONAL_INT_FIELDS:
            return None if value in (None, "", "none", "None", "auto") else int(value)
        if name in _FLOAT_FIELDS:
            return float(value)
        if name in _OPTIONAL_FLOAT_FIELDS:
            return None if value in (None, "", "none", "None") else float(value)
        if name in _BOOL_FIELDS:
            return _parse_bool(name, value)
        if name in _OPTIONAL_STR_FIELDS:
            return None if value in (None, "") else str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{name}={value!r}: {exc}") from exc
    if name == "accounts":
        return None if value is None else parse_accounts(value)
    if name == "report_urls":
        if not isinstance(value, dict):
            raise SettingsError(f"report_urls={value!r}: expected a table of VASID -> URL")
        return {str(k): str(v) for k, v in value.items()}
    if name == "basic_auth":
        if isinstance(value, str):
            user, sep, password = value.partition(":")
            if not sep:
                raise SettingsError(f"basic_auth={value!r}: expected user:password")
            return (user, password)
        if value is None:
            return None
        return tuple(value)
    if name in ("rules", "faults"):
        if not isinstance(value, list):
            raise SettingsError(f"{name}={value!r}: expected a list")
        return value
    return value


def parse_accounts(value: Any) -> dict[str, VasAccount]:
    """Accounts from a mapping ``{vas_id: {password, expires_at, tps, report_url}}``."""
    if not isinstance(value, Mapping):
        raise SettingsError(f"accounts={value!r}: expected a table of VASID -> account")
    accounts: dict[str, VasAccount] = {}
    for vas_id, raw in value.items():
        if isinstance(raw, VasAccount):
            accounts[str(vas_id)] = raw
            continue
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise SettingsError(f"accounts.{vas_id}={raw!r}: expected a table")
        unknown = set(raw) - {"password", "expires_at", "tps", "report_url"}
        if unknown:
            raise SettingsError(f"accounts.{vas_id}: unknown keys {sorted(unknown)}")
        expires = raw.get("expires_at")
        if isinstance(expires, str):
            try:
                expires = datetime.fromisoformat(expires)
            except ValueError as exc:
                raise SettingsError(f"accounts.{vas_id}.expires_at={expires!r}: {exc}") from exc
        elif expires is not None and not isinstance(expires, datetime):
            raise SettingsError(f"accounts.{vas_id}.expires_at={expires!r}: expected a datetime")
        tps = raw.get("tps")
        accounts[str(vas_id)] = VasAccount(
            password=None if raw.get("password") is None else str(raw["password"]),
            expires_at=expires,
            tps=None if tps is None else float(tps),
            report_url=raw.get("report_url"),
        )
    return accounts


def _apply(settings: MockSettings, values: Mapping[str, Any]) -> MockSettings:
    names = {f.name for f in fields(MockSettings)}
    unknown = set(values) - names
    if unknown:
        raise SettingsError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(names)}")
    return replace(settings, **{k: _coerce(k, v) for k, v in values.items()})


def read_document(path: str | Path) -> Any:
    """A TOML (``.toml``) or JSON file's content; errors name the file."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read {str(file)!r}: {exc}") from exc
    try:
        if file.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(data.decode("utf-8"))
        return json.loads(data)
    except ValueError as exc:
        raise SettingsError(
            f"{str(file)!r} is not valid {file.suffix[1:] or 'JSON'}: {exc}"
        ) from exc


def load_config(path: str | Path, base: MockSettings | None = None) -> MockSettings:
    """Settings from a TOML or JSON file whose top-level keys are :class:`MockSettings` fields.

    ``accounts`` is a table of VASID -> ``{password, expires_at, tps, report_url}``; ``rules``
    a list of rule tables (see :class:`mockmmsc.scenarios.Rule`); ``faults`` a list of fault
    tables (see :class:`mockmmsc.faults.Fault`).
    """
    document = read_document(path)
    if not isinstance(document, dict):
        raise SettingsError(f"{str(path)!r}: expected a table of settings at the top level")
    return _apply(base or MockSettings(), document)
