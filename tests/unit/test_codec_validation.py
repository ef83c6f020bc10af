"""Validation before anything is sent: each rule raises ValidationError naming field and value."""

from __future__ import annotations

from typing import Any

import pytest

from mm7client.codec import PreparedResponse, decode, encode, validate_submit
from mm7client.errors import ValidationError
from mm7client.model import (
    Address,
    CancelRequest,
    DeliverRequest,
    Part,
    ReplaceRequest,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def lgt_submit(**changes: Any) -> SubmitRequest:
    """A valid LGT SubmitReq with ``changes`` applied."""
    fields: dict[str, Any] = {
        "to": ["01012345678"],
        "vasp_id": "MYCOMPANY",
        "vas_id": "MYSERVICE",
        "kisa_orig_code": "123456789",
        "callback": "15881234",
        "subject": "안녕하세요",
        "content": [Part.from_text("본문"), Part.jpeg(JPEG, filename="a.jpg")],
    }
    fields.update(changes)
    return SubmitRequest(**fields)


def refused(
    message: SubmitRequest | ReplaceRequest | CancelRequest, profile: CarrierProfile
) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        encode(message, profile)
    error = caught.value
    # the message names the field and shows the value
    assert str(error).startswith(f"{error.field}=")
    return error


def test_the_valid_baseline_encodes() -> None:
    encoded = encode(lgt_submit(), LGT)
    assert encoded.body


def test_missing_kisa_orig_code_under_lgt() -> None:
    error = refused(lgt_submit(kisa_orig_code=None), LGT)
    assert error.field == "KisaOrigCode"
    assert error.value is None
    assert "required" in error.reason and "lgt" in error.reason


@pytest.mark.parametrize(
    "code", ["12345678", "1234567890", "12345678a", " 123456789", "", "１２３４５６７８９"]
)
def test_kisa_orig_code_must_be_nine_ascii_digits(code: str) -> None:
    error = refused(lgt_submit(kisa_orig_code=code), LGT)
    assert error.field == "KisaOrigCode"
    assert error.value == code
    assert repr(code) in str(error)


def test_kisa_orig_code_is_optional_under_3gpp_but_checked_when_given() -> None:
    encode(lgt_submit(kisa_orig_code=None), THREEGPP)
    error = refused(lgt_submit(kisa_orig_code="12"), THREEGPP)
    assert error.field == "KisaOrigCode"


@pytest.mark.parametrize(
    ("address", "field"),
    [
        (Address.number("010-1234-5678"), "Recipients/To[0]"),
        (Address.number("01O12345678"), "Recipients/To[0]"),
        (Address.number("12"), "Recipients/To[0]"),
        (Address.number(""), "Recipients/To[0]"),
        (Address.number("+82 10 1234 5678"), "Recipients/To[0]"),
        (Address.short_code("#1"), "Recipients/To[0]"),
        (Address.email("not-an-email"), "Recipients/To[0]"),
        (Address.email("a@b@c"), "Recipients/To[0]"),
    ],
)
def test_malformed_recipients(address: Address, field: str) -> None:
    error = refused(lgt_submit(to=[address]), LGT)
    assert error.field == field
    assert error.value == address.value
    assert address.kind.value in error.reason


def test_malformed_cc_and_bcc_name_their_slot() -> None:
    message = SubmitRequest(to=["01012345678"], cc=["01012345678", "oops"])
    assert refused(message, THREEGPP).field == "Recipients/Cc[1]"
    message = SubmitRequest(to=["01012345678"], bcc=["x"])
    assert refused(message, THREEGPP).field == "Recipients/Bcc[0]"


def test_malformed_sender_address() -> None:
    error = refused(lgt_submit(sender_address=Address.number("02-123")), LGT)
    assert (error.field, error.value) == ("SenderAddress", "02-123")


def test_no_recipient() -> None:
    error = refused(lgt_submit(to=[]), LGT)
    assert error.field == "Recipients"


def test_too_many_recipients_for_lgt() -> None:
    error = refused(lgt_submit(to=["01012345678"], cc=["01022223333"]), LGT)
    assert error.field == "Recipients"
    assert error.value == ["01012345678", "01022223333"]
    assert "1 recipient" in error.reason
    # the standard profile has no such limit
    encode(lgt_submit(to=["01012345678"], cc=["01022223333"]), THREEGPP)


def test_user_profile_recipient_limit() -> None:
    profile = THREEGPP.replace(max_recipients=2)
    encode(SubmitRequest(to=["01011111111", "01022222222"]), profile)
    error = refused(SubmitRequest(to=["01011111111", "01022222222"], bcc=["01033333333"]), profile)
    assert error.field == "Recipients"


def test_subject_over_40_bytes_euc_kr() -> None:
    at_limit = "가" * 20  # 40 bytes in EUC-KR
    encode(lgt_submit(subject=at_limit), LGT)
    over = "가" * 20 + "a"
    error = refused(lgt_submit(subject=over), LGT)
    assert (error.field, error.value) == ("Subject", over)
    assert "41 bytes" in error.reason and "40" in error.reason and "euc-kr" in error.reason
    # UTF-8 profile: no subject byte limit
    encode(lgt_submit(subject="가" * 100, kisa_orig_code=None), THREEGPP)


@pytest.mark.parametrize("emoji", ["😀", "👍🏻", "❤️"])
def test_emoji_in_subject_under_euc_kr(emoji: str) -> None:
    subject = f"할인 {emoji}"
    error = refused(lgt_submit(subject=subject), LGT)
    assert error.field == "Subject"
    assert error.value == subject
    assert f"U+{ord(emoji[0]):04X}" in error.reason
    assert "euc-kr" in error.reason
    encode(lgt_submit(subject=subject), THREEGPP)


@pytest.mark.parametrize("where", ["subject", "text"])
def test_hangul_outside_ks_x_1001_under_euc_kr(where: str) -> None:
    """'똠' encodes only as an 8-byte jamo sequence in EUC-KR: receivers would show garbage."""
    value = "똠방각하"
    if where == "subject":
        error = refused(lgt_submit(subject=value), LGT)
        assert error.field == "Subject"
    else:
        error = refused(lgt_submit(content=[Part.from_text(value)]), LGT)
        assert error.field == "Content[0]"
    assert error.value == value
    assert "U+B620" in error.reason and "KS X 1001" in error.reason
    # a real Hangul filler character is fine, and UTF-8 takes every syllable
    encode(lgt_submit(subject="가\u3164나"), LGT)
    encode(lgt_submit(subject=value), THREEGPP)


def test_emoji_in_text_part_under_euc_kr() -> None:
    content = [Part.jpeg(JPEG), Part.from_text("좋아요 😀 감사합니다")]
    error = refused(lgt_submit(content=content), LGT)
    assert error.field == "Content[1]"
    assert "U+1F600" in error.reason
    encode(lgt_submit(content=content), THREEGPP)


def test_text_part_over_2000_bytes_under_lgt() -> None:
    encode(lgt_submit(content=[Part.from_text("가" * 1000)]), LGT)
    error = refused(lgt_submit(content=[Part.from_text("가" * 1000 + "a")]), LGT)
    assert error.field == "Content[0]"
    assert "2001 bytes" in error.reason


def test_image_over_the_size_limit() -> None:
    profile = LGT.replace(max_image_bytes=50_000)
    encode(lgt_submit(content=[Part.jpeg(b"\xff" * 50_000, filename="ok.jpg")]), profile)
    error = refused(lgt_submit(content=[Part.jpeg(b"\xff" * 50_001, filename="big.jpg")]), profile)
    assert error.field == "Content[0]"
    assert "big.jpg" in str(error.value) and "50001 bytes" in str(error.value)
    assert "50000" in error.reason


def test_default_lgt_image_limit_is_300_kb() -> None:
    assert LGT.max_image_bytes == 300 * 1024
    error = refused(lgt_submit(content=[Part.jpeg(b"\xff" * (300 * 1024 + 1))]), LGT)
    assert error.field == "Content[0]"


def test_png_refused_under_lgt() -> None:
    content = [Part.from_text("본문"), Part.from_bytes(PNG, "image/png", filename="a.png")]
    error = refused(lgt_submit(content=content), LGT)
    assert (error.field, error.value) == ("Content[1].content_type", "image/png")
    assert "image/jpeg" in error.reason
    encode(lgt_submit(content=content), THREEGPP)


def test_png_refused_in_replace_under_lgt() -> None:
    message = ReplaceRequest(message_id="m-1", content=[Part.from_bytes(PNG, "image/png")])
    assert refused(message, LGT).field == "Content[0].content_type"


@pytest.mark.parametrize("code", ["12345678901", "1234567890123", "12345678901a", ""])
def test_x_kmms_svccode_must_be_12_digits(code: str) -> None:
    part = Part("text/plain", text="본문", headers={"X-Kmms-SVCCODE": code})
    error = refused(lgt_submit(content=[part]), LGT)
    assert error.field == "Content[0].headers[X-Kmms-SVCCODE]"
    assert error.value == code
    assert "12 digits" in error.reason


def test_x_kmms_svccode_header_name_is_case_insensitive() -> None:
    part = Part("text/plain", text="본문", headers={"x-kmms-svccode": "1234"})
    assert refused(lgt_submit(content=[part]), LGT).value == "1234"
    ok = Part("text/plain", text="본문", headers={"X-Kmms-SVCCODE": "123456789012"})
    assert b"X-Kmms-SVCCODE: 123456789012\r\n" in encode(lgt_submit(content=[ok]), LGT).body


def test_missing_vas_id_under_lgt() -> None:
    error = refused(lgt_submit(vas_id=None), LGT)
    assert (error.field, error.value) == ("VASID", None)


@pytest.mark.parametrize("callback", ["1588-1234", "123", "abcd1234"])
def test_malformed_callback(callback: str) -> None:
    error = refused(lgt_submit(callback=callback), LGT)
    assert (error.field, error.value) == ("CallBack", callback)


def test_header_injection_is_refused() -> None:
    part = Part("text/plain", text="x", headers={"X-Test": "a\r\nX-Evil: 1"})
    assert refused(lgt_submit(content=[part]), LGT).field == "Content[0].headers['X-Test']"
    bad_name = Part.jpeg(JPEG, filename='a.jpg"\r\nX-Evil: 1')
    assert refused(lgt_submit(content=[bad_name]), LGT).field == "Content[0].filename"
    bad_cid = Part("text/plain", text="x", content_id="a>\r\nX-Evil: 1")
    error = refused(SubmitRequest(to=["01012345678"], content=[bad_cid]), THREEGPP)
    assert error.field == "MIME header Content-ID"


def test_non_ascii_file_name_is_refused() -> None:
    error = refused(lgt_submit(content=[Part.jpeg(JPEG, filename="사진.jpg")]), LGT)
    assert (error.field, error.value) == ("Content[0].filename", "사진.jpg")


def test_control_characters_in_xml_fields() -> None:
    error = refused(lgt_submit(subject="a\x00b"), LGT)
    assert (error.field, error.value) == ("Subject", "a\x00b")
    error = refused(lgt_submit(vasp_id="corp\x1b"), LGT)
    assert error.field == "VASPID"


def test_cancel_and_replace_need_a_message_id() -> None:
    assert refused(CancelRequest(message_id=""), LGT).field == "MessageID"
    assert refused(ReplaceRequest(message_id=""), THREEGPP).field == "MessageID"


def test_validation_runs_before_anything_is_built() -> None:
    """validate_submit is usable alone and raises the same error as encode."""
    with pytest.raises(ValidationError) as caught:
        validate_submit(lgt_submit(kisa_orig_code="1"), LGT)
    assert caught.value.field == "KisaOrigCode"


def test_long_values_are_truncated_in_the_message() -> None:
    subject = "가" * 200
    error = refused(lgt_submit(subject=subject), LGT)
    assert error.value == subject  # the attribute keeps the whole value
    assert len(str(error)) < 200


def test_mmsc_originated_messages_are_not_profile_validated() -> None:
    """The mock builds DeliverReq with whatever a phone sent (PNG, emoji) under LGT's form."""
    message = DeliverRequest(
        sender="01012345678",
        to=["1588"],
        content=[Part.from_bytes(PNG, "image/png"), Part.from_text("hi")],
    )
    assert encode(message, LGT).body


def test_mmsc_originated_subject_outside_the_charset_becomes_character_references() -> None:
    from mm7client.codec import decode

    message = DeliverRequest(sender="01012345678", to=["1588"], subject="좋아요 😀")
    encoded = encode(message, LGT)
    assert b"&#128512;" in encoded.body
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, DeliverRequest)
    assert decoded.subject == "좋아요 😀"


def test_mmsc_originated_text_outside_the_charset_is_a_validation_error() -> None:
    message = DeliverRequest(sender="01012345678", content=[Part.from_text("x 😀")])
    with pytest.raises(ValidationError) as caught:
        encode(message, LGT)
    assert caught.value.field == "Content[0]"


@pytest.mark.parametrize(
    "number",
    [
        "0101234",
        "0101234567",
        "010123456789",
        "01512345678",
        "0212345678",
        "15881234",
        "+8201012345678",
    ],
)
def test_lgt_refuses_a_recipient_korean_numbering_does_not_have(number: str) -> None:
    error = refused(lgt_submit(to=[number]), LGT)
    assert (error.field, error.value) == ("Recipients/To[0]", number)
    assert "Korean mobile" in error.reason and repr(number) in str(error)
    # the standard profile knows no national numbering
    encode(lgt_submit(to=[number]), THREEGPP)


@pytest.mark.parametrize(
    "number", ["01012345678", "0111234567", "01612345678", "01987654321", "+821012345678"]
)
def test_lgt_accepts_korean_mobile_recipients(number: str) -> None:
    encode(lgt_submit(to=[number]), LGT)


@pytest.mark.parametrize(
    "number",
    [
        "15881234",  # representative numbers
        "16001234",
        "18001234",
        "021234567",  # Seoul
        "0212345678",
        "0311234567",  # Gyeonggi
        "05112345678",  # Busan
        "0641234567",  # Jeju
        "07012345678",  # internet phone
        "0801234567",  # free call
        "050412345678",  # personal number
        "01012345678",
    ],
)
def test_lgt_accepts_every_korean_number_a_sender_shows(number: str) -> None:
    encode(lgt_submit(callback=number, sender_address=Address.number(number)), LGT)


@pytest.mark.parametrize(
    "number", ["0101234", "1234", "0351234567", "0901234567", "1234567890", "15881234567"]
)
def test_lgt_refuses_a_sender_number_korean_numbering_does_not_have(number: str) -> None:
    error = refused(lgt_submit(callback=number), LGT)
    assert (error.field, error.value) == ("CallBack", number)
    assert "representative number" in error.reason
    error = refused(lgt_submit(sender_address=Address.number(number)), LGT)
    assert (error.field, error.value) == ("SenderAddress", number)
    # a short code is not a Number: Korean numbering does not apply to it
    encode(lgt_submit(sender_address=Address.short_code("1588")), LGT)


def test_the_numbers_the_readme_and_the_mock_use_are_valid_under_lgt() -> None:
    for recipient in ("01012345678", "01099994030", "01088880001", "01099990000"):
        encode(lgt_submit(to=[recipient], sender_address="0212345678"), LGT)
    encode(lgt_submit(sender_address="15881234", callback="0215441234"), LGT)


def test_a_status_built_with_an_int_code_works_everywhere() -> None:
    status = Status(code=1000)
    assert status == Status("1000") == Status.of(1000)
    assert (status.code, status.code_int, status.is_success) == ("1000", 1000, True)
    encoded = encode(SubmitResponse(status=Status(2007, "bad"), message_id=None), LGT)
    answer = decode(encoded.body, encoded.content_type)
    assert isinstance(answer, SubmitResponse) and answer.status == Status("2007", "bad")
    rendered = PreparedResponse(SubmitResponse(status=status, message_id="M"), LGT).render("T", "M")
    assert b"<StatusCode>1000</StatusCode>" in rendered.body


@pytest.mark.parametrize("code", [1000.0, None, True, b"1000"])
def test_a_status_code_of_another_type_is_refused_when_built(code: object) -> None:
    with pytest.raises(TypeError, match="expected the status code as str or int"):
        Status(code)  # type: ignore[arg-type]
