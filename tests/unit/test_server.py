"""The shared server side (``mm7client.server``): pure checks and answers, no sockets."""

from __future__ import annotations

import base64

import pytest

from mm7client.codec import decode
from mm7client.codes import normalize_submit_status
from mm7client.errors import BodyTooLargeError, ParseError
from mm7client.model import SoapFault
from mm7client.profiles import LGT, THREEGPP
from mm7client.server import (
    BodyPolicy,
    OncePerInterval,
    Refusal,
    ServerLimits,
    basic_auth_setting,
    check_basic_auth,
    check_media_type,
    check_peer,
    credentials_match,
    exposure_problem,
    fault_answer,
    is_loopback_host,
    media_type,
    parse_basic_auth,
    parse_error_refusal,
    parse_networks,
    refusal_answer,
    status_text,
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- media types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml; charset=euc-kr",
        "application/xml",
        "application/soap+xml",
        'multipart/related; boundary="b"; type="text/xml"',
        "Multipart/Mixed; boundary=x",
        None,
        "",
        "application/octet-stream",
    ],
)
def test_xml_multipart_and_unlabelled_bodies_are_accepted(content_type: str | None) -> None:
    assert check_media_type(content_type) is None


@pytest.mark.parametrize("content_type", ["application/json", "text/html; charset=utf-8"])
def test_other_media_types_are_refused_with_415_and_2007(content_type: str) -> None:
    refusal = check_media_type(content_type)
    assert refusal is not None
    assert (refusal.http_status, refusal.status_code) == (415, 2007)
    assert repr(content_type) in refusal.reason


def test_a_long_content_type_is_shortened_in_the_reason() -> None:
    refusal = check_media_type("x/" + "y" * 1000)
    assert refusal is not None and len(refusal.reason) < 200


def test_media_type_is_the_lower_cased_type_without_parameters() -> None:
    assert media_type(" Text/XML ; charset=utf-8") == "text/xml"
    assert media_type(None) == ""


# -- Basic auth -------------------------------------------------------------------------------


def test_basic_credentials_are_parsed() -> None:
    assert parse_basic_auth(basic("vasp", "p:ss 웹")) == ("vasp", "p:ss 웹")
    assert parse_basic_auth("basic " + base64.b64encode(b"u:p").decode()) == ("u", "p")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_malformed_basic_credentials_parse_to_none(header: str | None) -> None:
    assert parse_basic_auth(header) is None


def test_credentials_match_only_the_exact_pair() -> None:
    expected = ("vasp", "secret")
    assert credentials_match(("vasp", "secret"), expected)
    assert not credentials_match(("vasp", "secreT"), expected)
    assert not credentials_match(("VASP", "secret"), expected)
    assert not credentials_match(("vasp", "secret "), expected)
    assert not credentials_match(None, expected)


@pytest.mark.parametrize("pair", [("", ""), ("vasp", ""), ("", "secret")])
def test_an_empty_user_or_password_never_matches(pair: tuple[str, str]) -> None:
    assert not credentials_match(pair, pair)


def test_check_basic_auth_refuses_with_401_4001_and_a_challenge() -> None:
    expected = ("vasp", "secret")
    assert check_basic_auth(basic("vasp", "secret"), expected, realm="r") is None
    reasons = {}
    for name, header in {
        "missing": None,
        "malformed": "Basic ???",
        "wrong": basic("eve", "guess"),
    }.items():
        refusal = check_basic_auth(header, expected, realm="r")
        assert refusal is not None
        assert (refusal.http_status, refusal.status_code) == (401, 4001)
        assert refusal.headers == {"WWW-Authenticate": 'Basic realm="r"'}
        reasons[name] = refusal.reason
    assert reasons["missing"] == "HTTP Basic credentials required"
    assert reasons["malformed"] == "malformed HTTP Basic credentials"
    assert reasons["wrong"] == "wrong HTTP Basic credentials for user 'eve'"
    assert "guess" not in reasons["wrong"]


# -- bounded body -----------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    policy = BodyPolicy(100)
    assert policy.check_declared(None) is None  # chunked: checked while reading
    assert policy.check_declared(100) is None
    refusal = policy.check_declared(101)
    assert refusal == Refusal(413, 2007, "body of 101 bytes exceeds the limit of 100 bytes")


def test_a_body_growing_past_the_limit_is_refused_while_reading() -> None:
    policy = BodyPolicy(100, status_code=2004)
    assert policy.check_read(100) is None
    assert policy.check_read(101) == Refusal(413, 2004, "body exceeds the limit of 100 bytes")


def test_a_body_shorter_or_longer_than_its_content_length_is_refused() -> None:
    policy = BodyPolicy(100)
    assert policy.check_complete(None, 7) is None
    assert policy.check_complete(7, 7) is None
    refusal = policy.check_complete(50, 7)
    assert refusal is not None and (refusal.http_status, refusal.status_code) == (400, 2007)
    assert "7 bytes" in refusal.reason and "Content-Length 50" in refusal.reason


def test_a_negative_limit_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="max_bytes=-1"):
        BodyPolicy(-1)


# -- status texts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1000, "Success"),
        (2004, "Multimedia content refused,"),
        (2007, "Message format corrupt"),
        (3000, "Server Error"),
        (4001, "Improper identification"),
        (4007, "Service denied"),
        (4030, "System error"),
        (6024, "Invalid AuthPassword"),
        (7103, "Traffic is over"),
    ],
)
def test_status_texts_are_lg_uplus_spellings(code: int, text: str) -> None:
    assert status_text(code) == text == normalize_submit_status(code).result_message


def test_an_unknown_code_gets_the_text_of_its_class() -> None:
    assert status_text(3999) == "Server Error"


# -- faults -----------------------------------------------------------------------------------


def test_a_fault_answer_decodes_to_the_fault_it_describes() -> None:
    answer = fault_answer(
        4004,
        "missing MessageID",
        profile=LGT,
        detail_kind="RSErrorRsp",
        transaction_id="TID-7",
        headers={"SOAPAction": '""'},
    )
    assert (answer.http_status, answer.status_code, answer.status_text) == (
        500,
        4004,
        "Validation error",
    )
    assert answer.headers["SOAPAction"] == '""'
    fault = decode(answer.body, answer.headers["Content-Type"])
    assert isinstance(fault, SoapFault)
    assert fault.transaction_id == "TID-7"
    assert fault.fault_code == "Client" and fault.fault_string == "Validation error"
    assert fault.status is not None
    assert fault.status.code == "4004" and fault.status.text == "Validation error"
    assert fault.status.details == "missing MessageID"


def test_a_server_error_fault_is_a_server_fault_without_details() -> None:
    answer = fault_answer(3000, profile=THREEGPP, detail_kind="VASPErrorRsp", http_status=503)
    fault = decode(answer.body, answer.headers["Content-Type"])
    assert isinstance(fault, SoapFault) and fault.fault_code == "Server"
    assert fault.status is not None and fault.status.details is None
    assert answer.http_status == 503


def test_a_refusal_answer_carries_its_status_reason_and_headers() -> None:
    refusal = Refusal(401, 4001, "HTTP Basic credentials required", {"WWW-Authenticate": "x"})
    answer = refusal_answer(
        refusal, profile=LGT, detail_kind="VASPErrorRsp", reason_as_fault_string=True
    )
    assert answer.http_status == 401 and answer.headers["WWW-Authenticate"] == "x"
    fault = decode(answer.body, answer.headers["Content-Type"])
    assert isinstance(fault, SoapFault)
    assert fault.fault_string == "HTTP Basic credentials required"
    assert fault.status is not None and fault.status.code == "4001"


def test_a_long_reason_is_cut_in_the_fault() -> None:
    answer = fault_answer(2007, "x" * 5000, profile=LGT, detail_kind="RSErrorRsp")
    fault = decode(answer.body, answer.headers["Content-Type"])
    assert isinstance(fault, SoapFault) and fault.status is not None
    assert fault.status.details is not None and len(fault.status.details) == 500


def test_parse_errors_become_500_refusals_with_their_status() -> None:
    refusal = parse_error_refusal(ParseError("no Envelope", status_code=4004))
    assert (refusal.http_status, refusal.status_code) == (500, 4004)
    assert "no Envelope" in refusal.reason
    too_large = BodyTooLargeError("part", 10, 5)
    assert parse_error_refusal(too_large).status_code == too_large.status_code
    assert parse_error_refusal(too_large, too_large_code=2004).status_code == 2004


# -- time bounds of a body, connection limits, log once per interval ----------------------------


def test_a_body_earns_time_at_the_minimum_rate_up_to_the_total_bound() -> None:
    policy = BodyPolicy(10_000, timeout=30.0, min_rate=500.0, grace=10.0)
    assert policy.allowance(0) == 10.0
    assert policy.allowance(1_000) == 12.0  # 1 s more per 500 bytes
    assert policy.allowance(1_000_000) == 30.0  # never past the total bound
    assert BodyPolicy(10, timeout=None).allowance(10**9) > 10**6


def test_a_sender_at_1_kb_per_second_never_runs_out_of_time() -> None:
    policy = BodyPolicy(2_000_000, timeout=600.0, min_rate=500.0, grace=10.0)
    for second in range(1, 500):
        assert policy.check_time(received=1024 * second, elapsed=second) is None


def test_a_stalled_body_is_refused_with_408_and_2007() -> None:
    policy = BodyPolicy(10_000, timeout=30.0, min_rate=500.0, grace=10.0)
    assert policy.check_time(received=100, elapsed=10.1) is None  # 10 + 100/500 = 10.2
    refusal = policy.check_time(received=100, elapsed=10.3)
    assert refusal is not None
    assert (refusal.http_status, refusal.status_code) == (408, 2007)
    assert "100 bytes in 10.3 s" in refusal.reason and "500 bytes" in refusal.reason
    total = policy.check_time(received=9_000, elapsed=30.0)
    assert total is not None and "limit of 30 s" in total.reason


@pytest.mark.parametrize(
    "field", ["timeout", "min_rate", "grace"], ids=["timeout", "min_rate", "grace"]
)
def test_body_policy_time_bounds_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BodyPolicy(10, **{field: 0})


def test_server_limit_defaults_keep_idle_and_header_reads_short() -> None:
    limits = ServerLimits()
    assert limits.header_timeout <= 30 and limits.idle_timeout <= 30
    policy = limits.body_policy(1000, status_code=2004)
    assert (policy.max_bytes, policy.status_code) == (1000, 2004)
    assert (policy.timeout, policy.min_rate, policy.grace) == (
        limits.body_timeout,
        limits.body_min_rate,
        limits.body_grace,
    )


def test_the_connection_cap_stays_under_the_descriptor_limit() -> None:
    assert ServerLimits().connection_cap(None) == 1024
    assert ServerLimits().connection_cap(100_000) == 1024
    assert ServerLimits().connection_cap(256) == 256 - 64
    assert ServerLimits().connection_cap(10) == 1
    assert ServerLimits(max_connections=5000).connection_cap(256) == 5000  # as told


@pytest.mark.parametrize(
    "changes",
    [{"header_timeout": 0}, {"idle_timeout": -1}, {"max_connections": 0}, {"backlog": 0}],
)
def test_server_limits_refuse_values_naming_them(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        ServerLimits(**changes)  # type: ignore[arg-type]


def test_server_limits_from_the_environment() -> None:
    limits = ServerLimits.from_env(
        "RX_",
        {"RX_HEADER_TIMEOUT": "2.5", "RX_MAX_CONNECTIONS": "300", "RX_IDLE_TIMEOUT": ""},
    )
    assert (limits.header_timeout, limits.max_connections) == (2.5, 300)
    assert limits.idle_timeout == ServerLimits().idle_timeout
    assert ServerLimits.from_env("RX_", {"RX_MAX_CONNECTIONS": "auto"}).max_connections is None
    with pytest.raises(ValueError, match="RX_BODY_MIN_RATE='fast'"):
        ServerLimits.from_env("RX_", {"RX_BODY_MIN_RATE": "fast"})
    with pytest.raises(ValueError, match="idle_timeout"):
        ServerLimits.from_env("RX_", {"RX_IDLE_TIMEOUT": "0"})


def test_a_repeated_error_is_logged_once_per_interval_with_its_count() -> None:
    rule = OncePerInterval(10.0)
    assert rule.due(100.0) == 1
    assert [rule.due(100.0 + t / 10) for t in range(1, 99)] == [None] * 98
    assert rule.due(110.0) == 99  # this one and the 98 kept quiet
    assert rule.due(115.0) is None
    assert rule.due(120.5) == 2


# -- who may connect --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "password", "expected"),
    [(None, None, None), ("carrier", "s3cret", ("carrier", "s3cret"))],
)
def test_basic_auth_setting_needs_both_or_neither(
    user: str | None, password: str | None, expected: tuple[str, str] | None
) -> None:
    assert basic_auth_setting(user, password) == expected


@pytest.mark.parametrize(
    ("user", "password", "problem"),
    [
        ("carrier", None, "the password is missing"),
        (None, "s3cret", "the user is missing"),
        ("carrier", "", "the password is empty"),
        ("", "s3cret", "the user is empty"),
    ],
)
def test_basic_auth_setting_refuses_half_a_credential(
    user: str | None, password: str | None, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        basic_auth_setting(user, password)


def test_the_allow_list_takes_addresses_and_networks() -> None:
    networks = parse_networks(["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32"])
    assert check_peer("10.1.2.3", networks) is None
    assert check_peer("192.0.2.7", networks) is None
    assert check_peer("::ffff:10.9.9.9", networks) is None  # IPv4-mapped counts as IPv4
    assert check_peer("2001:db8::1", networks) is None
    refusal = check_peer("192.0.2.8", networks)
    assert refusal is not None and (refusal.http_status, refusal.status_code) == (403, 4007)
    assert "192.0.2.8" in refusal.reason
    assert check_peer(None, networks) is not None
    assert check_peer("203.0.113.1", None) is None  # no allow-list: everyone
    with pytest.raises(ValueError, match="'nope'"):
        parse_networks(["nope"])


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "localhost", "[::1]"])
def test_loopback_hosts_need_no_protection(host: str) -> None:
    assert is_loopback_host(host)
    assert exposure_problem(host, authenticated=False, allow_listed=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.1", "mm7.example"])
def test_other_hosts_need_auth_or_an_allow_list(host: str) -> None:
    assert not is_loopback_host(host)
    problem = exposure_problem(host, authenticated=False, allow_listed=False)
    assert problem is not None and "neither HTTP Basic auth nor an IP allow-list" in problem
    assert exposure_problem(host, authenticated=True, allow_listed=False) is None
    assert exposure_problem(host, authenticated=False, allow_listed=True) is None


def test_the_quiet_events_are_told_once_the_interval_has_passed() -> None:
    rule = OncePerInterval(1.0)
    assert rule.flush(0.0) is None and rule.next_line is None
    assert rule.due(0.0) == 1
    assert rule.due(0.2) is None and rule.due(0.4) is None
    assert rule.next_line == 1.0
    assert rule.flush(0.9) is None  # not yet
    assert rule.flush(1.0) == 2
    assert rule.flush(3.0) is None and rule.next_line is None
    assert rule.due(3.5) == 1


# -- the form of an answer ----------------------------------------------------------------------


def test_the_answer_mirrors_the_request_or_forces_a_style() -> None:
    from mm7client.model import MessageForm
    from mm7client.server import ANSWER_FORMS, answer_form

    request = MessageForm("urn:ns", "5.3.2", "prefixed")
    assert answer_form("mirror", request, LGT) == request
    assert answer_form("default-ns", request, LGT) == MessageForm("urn:ns", "5.3.2", "default-ns")
    assert answer_form("mirror", None, THREEGPP) == THREEGPP.form  # request unreadable
    assert answer_form("lgt", None, THREEGPP).style == "lgt"
    assert answer_form("lgt", None, THREEGPP).namespace == THREEGPP.form.namespace
    assert ANSWER_FORMS == ("mirror", "lgt", "default-ns", "prefixed")
    with pytest.raises(ValueError, match="'soap'"):
        answer_form("soap", request, LGT)


def test_a_fault_is_written_in_the_form_given() -> None:
    from mm7client.model import MessageForm

    form = MessageForm("urn:ns", "6.8.0", "default-ns")
    answer = fault_answer(
        2007, "cut", profile=LGT, detail_kind="VASPErrorRsp", transaction_id="t-1", form=form
    )
    assert b'<VASPErrorRsp xmlns="urn:ns">' in answer.body
    fault = decode(answer.body, answer.headers["Content-Type"])
    assert isinstance(fault, SoapFault) and fault.transaction_id == "t-1"
