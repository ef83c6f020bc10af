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
    Refusal,
    check_basic_auth,
    check_media_type,
    credentials_match,
    fault_answer,
    media_type,
    parse_basic_auth,
    parse_error_refusal,
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
