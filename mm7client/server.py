"""What every MM7 server does, without I/O: shared by the receiver and the mock MMSC.

Both servers take a POST, check who sent it and what it claims to be, read a bounded body and
answer either an MM7 Rsp or a fault. Everything here is a pure function over strings, bytes and
dataclasses (no aiohttp: :mod:`mm7client.server_aiohttp` is the thin adapter reading a body
from an aiohttp request under a :class:`BodyPolicy`):

* :func:`check_media_type` - XML or ``multipart/related`` (a missing Content-Type or
  ``application/octet-stream`` is accepted: the codec sniffs the envelope or the boundary);
* :func:`parse_basic_auth`, :func:`credentials_match`, :func:`check_basic_auth` - HTTP Basic
  credentials, compared in constant time, an empty user or password never matching;
  :func:`basic_auth_setting` - a configured user and password: both non-empty, or neither;
* :func:`parse_networks`, :func:`check_peer` - an IP allow-list (403 / 4007 outside it);
  :func:`exposure_problem`, :func:`check_exposure` - a non-loopback address served with
  neither (refused, or said at start when meant);
* :class:`BodyPolicy` - the body size bound, checked from Content-Length before reading, while
  reading, and against Content-Length once read (a truncated body is never acknowledged); and
  the time a body read may take (:meth:`BodyPolicy.allowance`: a total bound and a minimum
  rate, so a slow but live sender gets through and a stalled one does not hold on);
* :class:`ServerLimits` - how long a connection may stay idle or take to send its header and
  body, how many connections are served at once, how often accept errors are logged
  (:mod:`mm7client.http_server` applies them to an aiohttp application);
* :class:`OncePerInterval` - the rule logging a repeated error once per interval with a count;
* :func:`status_text` - the one table of StatusTexts (LG U+'s spellings, from
  :mod:`mm7client.codes`);
* :func:`parse_error_refusal`, :func:`fault_answer` - the SOAP Fault answering a refused or
  unreadable request, echoing its TransactionID when known;
* :func:`answer_form` - the form (namespace, MM7Version, style) an answer is written in: the
  request's by default (``"mirror"``), or a style forced by a setting (:data:`ANSWER_FORMS`).

A check that fails returns a :class:`Refusal` (HTTP status, MM7 status code, the reason, extra
headers); :func:`fault_answer` turns it into bytes the server sends.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from typing import cast

from mm7client.codec import encode
from mm7client.codes import normalize_submit_status
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import FormStyle, MessageForm, SoapFault, Status
from mm7client.profiles import CarrierProfile

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "ANSWER_FORMS",
    "SNIFFED_MEDIA_TYPES",
    "STATUS_IMPROPER_IDENTIFICATION",
    "STATUS_MESSAGE_FORMAT_CORRUPT",
    "STATUS_SERVICE_DENIED",
    "BodyPolicy",
    "FaultAnswer",
    "IPNetwork",
    "OncePerInterval",
    "Refusal",
    "ServerLimits",
    "answer_form",
    "basic_auth_setting",
    "check_basic_auth",
    "check_exposure",
    "check_media_type",
    "check_peer",
    "credentials_match",
    "exposure_problem",
    "fault_answer",
    "is_loopback_host",
    "media_type",
    "parse_basic_auth",
    "parse_error_refusal",
    "parse_networks",
    "refusal_answer",
    "status_text",
]

#: Media types an MM7 request may be labelled with.
ACCEPTED_MEDIA_TYPES = frozenset(
    {"text/xml", "application/xml", "application/soap+xml", "multipart/related", "multipart/mixed"}
)
#: No label, or the label some HTTP stacks put on any body: the codec sniffs the body instead.
SNIFFED_MEDIA_TYPES = frozenset({"", "application/octet-stream"})

#: MM7 status codes these checks answer with.
STATUS_MESSAGE_FORMAT_CORRUPT = 2007
STATUS_IMPROPER_IDENTIFICATION = 4001
STATUS_SERVICE_DENIED = 4007
_MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request a server answers with a fault instead of handling it.

    Attributes:
        http_status: the HTTP status of the answer (401, 413, 415, 500...).
        status_code: the MM7 status code of the fault (2007, 4001...).
        reason: what was wrong, for the fault's details and the server's log.
        headers: extra HTTP headers of the answer (``WWW-Authenticate`` for a 401).
    """

    http_status: int
    status_code: int
    reason: str
    headers: Mapping[str, str] | None = None


# -- media type -----------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a Content-Type header (``""`` when there is none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> Refusal | None:
    """``None`` when ``content_type`` may carry an MM7 request, else a 415 / 2007 refusal.

    XML and multipart types are accepted; a missing Content-Type and
    ``application/octet-stream`` too (the codec finds the envelope or the MIME boundary
    itself).
    """
    media = media_type(content_type)
    if media in ACCEPTED_MEDIA_TYPES or media in SNIFFED_MEDIA_TYPES:
        return None
    shown = (content_type or "")[:100]
    return Refusal(
        415,
        STATUS_MESSAGE_FORMAT_CORRUPT,
        f"Content-Type {shown!r} is not XML or multipart/related",
    )


# -- HTTP Basic authentication ---------------------------------------------------------------


def parse_basic_auth(authorization: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization: Basic ...`` header value.

    ``None`` when the header is missing, of another scheme, not base64, not UTF-8, or has no
    ``:`` between user and password.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def credentials_match(given: tuple[str, str] | None, expected: tuple[str, str]) -> bool:
    """Whether ``given`` equals ``expected``, compared in constant time.

    An empty user or password never matches (nor does ``given=None``), so a server configured
    with an empty one refuses everybody rather than accepting an empty credential.
    """
    if given is None:
        return False
    user, password = given
    want_user, want_password = expected
    # both compared every time: the time taken does not tell which of the two was wrong
    user_ok = hmac.compare_digest(user.encode(), want_user.encode())
    password_ok = hmac.compare_digest(password.encode(), want_password.encode())
    return user_ok and password_ok and bool(user) and bool(password)


def check_basic_auth(
    authorization: str | None, expected: tuple[str, str], *, realm: str
) -> Refusal | None:
    """``None`` when the ``Authorization`` header carries ``expected``, else a 401 / 4001
    refusal with a ``WWW-Authenticate`` challenge for ``realm``."""
    given = parse_basic_auth(authorization)
    if credentials_match(given, expected):
        return None
    if given is not None:
        reason = f"wrong HTTP Basic credentials for user {given[0][:100]!r}"
    elif authorization and authorization.partition(" ")[0].lower() == "basic":
        reason = "malformed HTTP Basic credentials"
    else:
        reason = "HTTP Basic credentials required"
    challenge = {"WWW-Authenticate": f'Basic realm="{realm}"'}
    return Refusal(401, STATUS_IMPROPER_IDENTIFICATION, reason, challenge)


def basic_auth_setting(user: str | None, password: str | None) -> tuple[str, str] | None:
    """The ``(user, password)`` a server requires, from its settings: ``None`` when neither is
    given; :class:`ValueError` when only one is, or either is empty (a server must never end
    up accepting an empty user or password)."""
    if user is None and password is None:
        return None
    problems = [
        f"the {name} is {'empty' if value == '' else 'missing'}"
        for name, value in (("user", user), ("password", password))
        if not value
    ]
    if problems:
        raise ValueError(
            "HTTP Basic auth needs both a user and a password, non-empty: " + " and ".join(problems)
        )
    assert user is not None and password is not None
    return (user, password)


# -- who may connect ---------------------------------------------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """An allow-list from addresses and CIDR networks (``"10.0.0.0/8"``, ``"192.0.2.7"``,
    ``"2001:db8::/32"``); :class:`ValueError` naming an entry that is neither."""
    networks: list[IPNetwork] = []
    for entry in entries:
        if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(entry)
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"allow-list entry {entry!r}: not an IP address or network") from None
    return tuple(networks)


def check_peer(peer: str | None, networks: tuple[IPNetwork, ...] | None) -> Refusal | None:
    """``None`` when the TCP peer address ``peer`` is in ``networks`` (or there is no
    allow-list), else a 403 / 4007 refusal. An IPv4-mapped IPv6 address counts as IPv4."""
    if networks is None:
        return None
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return Refusal(403, STATUS_SERVICE_DENIED, f"peer address {peer!r} is not allowed")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in networks):
        return None
    return Refusal(403, STATUS_SERVICE_DENIED, f"peer address {peer} is not allowed")


def is_loopback_host(host: str) -> bool:
    """Whether listening on ``host`` is reachable from this machine only (``localhost`` or a
    loopback address; ``""``, ``0.0.0.0``, ``::`` and other names are not)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, *, authenticated: bool, allow_listed: bool) -> str | None:
    """What is wrong with serving on ``host``: ``None`` when it is loopback or protected by
    HTTP Basic auth or an IP allow-list, else the sentence to refuse (or warn) with."""
    if is_loopback_host(host) or authenticated or allow_listed:
        return None
    return (
        f"listening on {host or 'every address'!r} with neither HTTP Basic auth nor an IP "
        "allow-list: anyone who reaches it may post"
    )


def check_exposure(
    host: str, *, authenticated: bool, allow_listed: bool, insecure: bool
) -> str | None:
    """:func:`exposure_problem`, refused (:class:`ValueError`) unless ``insecure``; returns
    the problem an insecure server must warn about at start (``None``: none)."""
    problem = exposure_problem(host, authenticated=authenticated, allow_listed=allow_listed)
    if problem is not None and not insecure:
        raise ValueError(
            f"{problem}; protect it (HTTP Basic auth, an IP allow-list) or say it is meant "
            "(insecure=True, mm7 receive --insecure)"
        )
    return problem


# -- bounded body ----------------------------------------------------------------------------


#: Default time bounds of a body read (see :class:`BodyPolicy`).
DEFAULT_BODY_TIMEOUT = 120.0
DEFAULT_BODY_MIN_RATE = 500.0
DEFAULT_BODY_GRACE = 10.0


@dataclass(frozen=True, slots=True)
class BodyPolicy:
    """How much body a server reads, for how long, and what it answers beyond that.

    The time a read may take grows with what arrived (Apache's ``mod_reqtimeout`` rule):
    ``grace + received / min_rate`` seconds from the first read, never more than ``timeout``.
    A sender keeping ``min_rate`` bytes per second on average always has time left; one that
    stalls is refused (HTTP 408, status 2007) once its allowance runs out.

    Attributes:
        max_bytes: the largest body accepted.
        status_code: the MM7 status of the 413 fault (the receiver answers 2007 "Message
            format corrupt"; the mock answers as LG U+ does, 2004 "Multimedia content
            refused,").
        timeout: the longest a body read may take, however fast the body flows (seconds;
            ``None``: no bound in time at all).
        min_rate: the average rate (bytes per second) a body must keep after ``grace``.
        grace: the seconds a body read gets before the rate counts.
    """

    max_bytes: int
    status_code: int = STATUS_MESSAGE_FORMAT_CORRUPT
    timeout: float | None = DEFAULT_BODY_TIMEOUT
    min_rate: float = DEFAULT_BODY_MIN_RATE
    grace: float = DEFAULT_BODY_GRACE

    def __post_init__(self) -> None:
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes={self.max_bytes!r}: must not be negative")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout={self.timeout!r}: must be > 0 seconds (or None)")
        if not self.min_rate > 0:
            raise ValueError(f"min_rate={self.min_rate!r}: must be > 0 bytes per second")
        if not self.grace > 0:
            raise ValueError(f"grace={self.grace!r}: must be > 0 seconds")

    def check_declared(self, content_length: int | None) -> Refusal | None:
        """Before reading: refuse a Content-Length over the limit (``None``: chunked)."""
        if content_length is not None and content_length > self.max_bytes:
            return Refusal(
                413,
                self.status_code,
                f"body of {content_length} bytes exceeds the limit of {self.max_bytes} bytes",
            )
        return None

    def check_read(self, size: int) -> Refusal | None:
        """While reading: refuse as soon as ``size`` bytes read so far exceed the limit."""
        if size > self.max_bytes:
            return Refusal(
                413, self.status_code, f"body exceeds the limit of {self.max_bytes} bytes"
            )
        return None

    def check_complete(self, content_length: int | None, size: int) -> Refusal | None:
        """Once read: refuse a body shorter than its Content-Length (a truncated message is
        never acknowledged)."""
        if content_length is not None and size != content_length:
            return Refusal(
                400,
                STATUS_MESSAGE_FORMAT_CORRUPT,
                f"body of {size} bytes does not match its Content-Length {content_length}",
            )
        return None

    def allowance(self, received: int) -> float:
        """Seconds from the start of the read that a body with ``received`` bytes so far may
        take: ``grace + received / min_rate``, at most ``timeout`` (``inf`` without one)."""
        earned = self.grace + received / self.min_rate
        return earned if self.timeout is None else min(self.timeout, earned)

    def time_left(self, received: int, elapsed: float) -> float:
        """Seconds the read may still wait for more (``<= 0``: the time is up)."""
        return self.allowance(received) - elapsed

    def check_time(self, received: int, elapsed: float) -> Refusal | None:
        """While reading: refuse (:meth:`too_slow`) a body whose allowance ran out after
        ``elapsed`` seconds with ``received`` bytes; ``None`` while time is left."""
        if self.time_left(received, elapsed) > 0:
            return None
        return self.too_slow(received, elapsed)

    def too_slow(self, received: int, elapsed: float) -> Refusal:
        """The refusal of a body read that ran out of time: HTTP 408, status 2007 (the sender
        resends; nothing partial is acknowledged)."""
        if self.timeout is not None and elapsed >= self.timeout:
            rule = f"the limit of {self.timeout:g} s"
        else:
            rule = f"{self.grace:g} s plus 1 s per {self.min_rate:g} bytes"
        return Refusal(
            408,
            STATUS_MESSAGE_FORMAT_CORRUPT,
            f"body too slow: {received} bytes in {elapsed:.1f} s ({rule})",
        )


# -- connection limits ------------------------------------------------------------------------

#: Connections served at once when :attr:`ServerLimits.max_connections` is not set.
DEFAULT_MAX_CONNECTIONS = 1024
#: Descriptors left free for files, the store and logging below the process's limit.
RESERVED_DESCRIPTORS = 64


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name}={value!r}: must be > 0")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How long and how many: the bounds every server puts on its connections.

    The defaults suit a carrier link (an MMSC posting reports, a VASP posting SubmitReqs);
    :mod:`mm7client.http_server` applies them.

    Attributes:
        header_timeout: seconds a connection gets to send a complete request header, from its
            opening or from its first byte after an answer (408 or closed after).
        idle_timeout: seconds a keep-alive connection may wait for its next request.
        body_timeout: the longest a body read may take (:attr:`BodyPolicy.timeout`).
        body_min_rate: the average bytes per second a body must keep after ``body_grace``
            (:attr:`BodyPolicy.min_rate`).
        body_grace: seconds a body read gets before the rate counts (:attr:`BodyPolicy.grace`).
        max_connections: connections served at once; more wait in the listen backlog until
            one closes. ``None``: :data:`DEFAULT_MAX_CONNECTIONS`, lowered to stay
            :data:`RESERVED_DESCRIPTORS` under the process's descriptor limit.
        accept_error_interval: an accept error (``EMFILE`` "Too many open files") is logged
            at most once per this many seconds, with the count of the ones not logged.
        backlog: the listen backlog (connections the kernel queues before they are accepted).
    """

    header_timeout: float = 10.0
    idle_timeout: float = 15.0
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    body_min_rate: float = DEFAULT_BODY_MIN_RATE
    body_grace: float = DEFAULT_BODY_GRACE
    max_connections: int | None = None
    accept_error_interval: float = 10.0
    backlog: int = 128

    def __post_init__(self) -> None:
        for name in (
            "header_timeout",
            "idle_timeout",
            "body_timeout",
            "body_min_rate",
            "body_grace",
            "accept_error_interval",
        ):
            _positive(name, getattr(self, name))
        if self.max_connections is not None and self.max_connections < 1:
            raise ValueError(f"max_connections={self.max_connections!r}: must be >= 1")
        if self.backlog < 1:
            raise ValueError(f"backlog={self.backlog!r}: must be >= 1")

    def body_policy(
        self, max_bytes: int, *, status_code: int = STATUS_MESSAGE_FORMAT_CORRUPT
    ) -> BodyPolicy:
        """The :class:`BodyPolicy` of a body of at most ``max_bytes`` under these limits."""
        return BodyPolicy(
            max_bytes,
            status_code,
            timeout=self.body_timeout,
            min_rate=self.body_min_rate,
            grace=self.body_grace,
        )

    def connection_cap(self, descriptor_limit: int | None) -> int:
        """Connections served at once: :attr:`max_connections` when set, else
        :data:`DEFAULT_MAX_CONNECTIONS` lowered to ``descriptor_limit`` minus
        :data:`RESERVED_DESCRIPTORS` (at least 1; ``None``: no known limit)."""
        if self.max_connections is not None:
            return self.max_connections
        if descriptor_limit is None or descriptor_limit <= 0:
            return DEFAULT_MAX_CONNECTIONS
        return max(1, min(DEFAULT_MAX_CONNECTIONS, descriptor_limit - RESERVED_DESCRIPTORS))

    @classmethod
    def from_env(
        cls,
        prefix: str,
        environ: Mapping[str, str] | None = None,
        *,
        base: ServerLimits | None = None,
    ) -> ServerLimits:
        """``base`` (or the defaults) with each field read from ``<prefix><FIELD>`` when set
        (``MM7_RECEIVER_HEADER_TIMEOUT=5``); a bad value raises :class:`ValueError` naming
        the variable. ``MAX_CONNECTIONS`` may be ``auto`` (the default rule)."""
        env = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for spec in fields(cls):
            name = prefix + spec.name.upper()
            raw = env.get(name)
            if raw is None or not raw.strip():
                continue
            try:
                if spec.name == "max_connections":
                    changes[spec.name] = None if raw.strip() == "auto" else int(raw)
                elif spec.name == "backlog":
                    changes[spec.name] = int(raw)
                else:
                    changes[spec.name] = float(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r}: not a number") from None
        try:
            return replace(base or cls(), **changes)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{prefix}*: {exc}") from None


@dataclass(slots=True)
class OncePerInterval:
    """Says when a repeated event is worth a log line: the first at once, then at most one per
    ``interval`` seconds, carrying how many were kept quiet in between.

    ``due(now)`` counts one event and returns ``None`` (stay quiet) or the number of events
    the line stands for (1 + those kept quiet since the last line); ``flush(now)``, called once
    the interval has passed, returns the quiet ones still untold (``None`` if none). Pure: the
    caller passes the clock.
    """

    interval: float
    _last: float | None = field(default=None, init=False)
    _quiet: int = field(default=0, init=False)

    def due(self, now: float) -> int | None:
        """Count one event at ``now``; the count to log, or ``None`` to stay quiet."""
        if self._last is not None and now - self._last < self.interval:
            self._quiet += 1
            return None
        count, self._quiet, self._last = self._quiet + 1, 0, now
        return count

    def flush(self, now: float) -> int | None:
        """The events kept quiet, once ``interval`` has passed since the last line."""
        if not self._quiet or (self._last is not None and now - self._last < self.interval):
            return None
        count, self._quiet, self._last = self._quiet, 0, now
        return count

    @property
    def next_line(self) -> float | None:
        """When the quiet events may be told (``None``: nothing is waiting)."""
        if not self._quiet or self._last is None:
            return None
        return self._last + self.interval


# -- the form of an answer ---------------------------------------------------------------------

#: The answer-form settings: ``"mirror"`` answers in the request's form (its namespace URI,
#: MM7Version and style); a style (``"lgt"``, ``"default-ns"``, ``"prefixed"``) forces it,
#: keeping the request's namespace and version, so a client can be rehearsed against each.
ANSWER_FORMS: tuple[str, ...] = ("mirror", "lgt", "default-ns", "prefixed")


def answer_form(
    setting: str, request_form: MessageForm | None, profile: CarrierProfile
) -> MessageForm:
    """The form to answer a request in under ``setting`` (one of :data:`ANSWER_FORMS`).

    ``request_form`` is the form the request arrived in (``None`` when it could not be read:
    the profile's form, in the forced style if one is set). :class:`ValueError` names an
    unknown setting.
    """
    if setting not in ANSWER_FORMS:
        raise ValueError(f"answer form {setting!r}: expected one of {', '.join(ANSWER_FORMS)}")
    base = request_form or profile.form
    if setting == "mirror" or setting == base.style:
        return base
    return MessageForm(base.namespace, base.version, cast(FormStyle, setting))


# -- status texts and faults ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def status_text(code: int) -> str:
    """The StatusText of ``code``: LG U+'s spelling (the code table's resultMessage column),
    else the text of its class (``"Server Error"`` for an unknown 3xxx)."""
    return normalize_submit_status(code).result_message


def parse_error_refusal(error: ParseError, *, too_large_code: int | None = None) -> Refusal:
    """The refusal of a body the codec could not read: HTTP 500 with ``error.status_code``
    (``too_large_code`` instead, when given, for a body or part over a size limit)."""
    code = error.status_code
    if too_large_code is not None and isinstance(error, BodyTooLargeError):
        code = too_large_code
    return Refusal(500, code, f"unreadable MM7 request: {error}")


@dataclass(frozen=True, slots=True)
class FaultAnswer:
    """A SOAP Fault ready to send.

    Attributes:
        http_status: the HTTP status to answer with.
        status_code: the MM7 status code inside the fault.
        status_text: its StatusText.
        body: the encoded envelope.
        headers: ``Content-Type`` and any extra headers of the answer.
    """

    http_status: int
    status_code: int
    status_text: str
    body: bytes
    headers: Mapping[str, str]


def fault_answer(
    status_code: int,
    reason: str = "",
    *,
    profile: CarrierProfile,
    detail_kind: str,
    http_status: int = 500,
    transaction_id: str | None = None,
    fault_string: str | None = None,
    headers: Mapping[str, str] | None = None,
    form: MessageForm | None = None,
) -> FaultAnswer:
    """A SOAP Fault carrying an MM7 error response, encoded in ``profile`` (in ``form`` when
    given: see :func:`answer_form`).

    Args:
        status_code: the MM7 status code; its text comes from :func:`status_text`.
        reason: what was wrong: the status's Details (left out when empty).
        profile: the carrier profile the answer is written in.
        detail_kind: ``"RSErrorRsp"`` when the server is the MMSC (the mock),
            ``"VASPErrorRsp"`` when it is the VASP (the receiver).
        http_status: the HTTP status of the answer.
        transaction_id: the request's TransactionID, echoed when known.
        fault_string: the faultstring (default: the status text).
        headers: extra HTTP headers (the Content-Type is added).
        form: the form to write it in (the request's, to answer as it was asked; default:
            the profile's).
    """
    text = status_text(status_code)
    reason = reason[:_MAX_REASON]
    fault = SoapFault(
        transaction_id=transaction_id,
        fault_code="Server" if 3000 <= status_code < 4000 else "Client",
        fault_string=(fault_string if fault_string is not None else text)[:_MAX_REASON],
        detail_kind=detail_kind,
        status=Status.of(status_code, text, reason or None),
    )
    encoded = encode(fault, profile, form=form)
    return FaultAnswer(
        http_status=http_status,
        status_code=status_code,
        status_text=text,
        body=encoded.body,
        headers={"Content-Type": encoded.content_type, **(headers or {})},
    )


def refusal_answer(
    refusal: Refusal,
    *,
    profile: CarrierProfile,
    detail_kind: str,
    transaction_id: str | None = None,
    reason_as_fault_string: bool = False,
    form: MessageForm | None = None,
) -> FaultAnswer:
    """:func:`fault_answer` for ``refusal`` (its HTTP status, code, reason and headers);
    ``reason_as_fault_string`` puts the reason in the faultstring too (the receiver's way);
    ``form`` as in :func:`fault_answer`."""
    return fault_answer(
        refusal.status_code,
        refusal.reason,
        profile=profile,
        detail_kind=detail_kind,
        http_status=refusal.http_status,
        transaction_id=transaction_id,
        fault_string=refusal.reason if reason_as_fault_string else None,
        headers=refusal.headers,
        form=form,
    )
