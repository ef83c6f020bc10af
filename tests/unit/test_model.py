"""The message model: constructors, normalizations and helper properties."""

from __future__ import annotations

import dataclasses

import pytest

from mm7client.model import (
    Address,
    AddressKind,
    DeliverRequest,
    Part,
    Status,
    SubmitRequest,
)


def test_address_constructors() -> None:
    assert Address("01012345678") == Address.number("01012345678")
    assert Address.short_code("1588").kind is AddressKind.SHORT_CODE
    email = Address.email("a@example.com", display_only=True)
    assert (email.kind, email.display_only) == (AddressKind.EMAIL, True)
    assert str(email) == "a@example.com"
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.value = "b"  # type: ignore[misc]


def test_recipients_given_as_strings_become_numbers() -> None:
    message = SubmitRequest(
        to=["01011111111"],
        cc=[Address.email("c@example.com")],
        bcc=["01033333333"],
        sender_address="0212345678",  # type: ignore[arg-type]
    )
    assert message.to == [Address.number("01011111111")]
    assert message.sender_address == Address.number("0212345678")
    assert [a.value for a in message.recipients] == ["01011111111", "c@example.com", "01033333333"]
    mo = DeliverRequest(sender="01012345678", to=["1588"])  # type: ignore[arg-type]
    assert mo.sender == Address.number("01012345678")


@pytest.mark.parametrize(
    ("code", "as_int", "success"),
    [("1000", 1000, True), (" 1100 ", 1100, True), ("4030", 4030, False), ("abc", None, False)],
)
def test_status_code_helpers(code: str, as_int: int | None, success: bool) -> None:
    status = Status(code)
    assert status.code_int == as_int
    assert status.is_success is success


def test_status_of() -> None:
    assert Status.of(7103, "Traffic is over") == Status("7103", "Traffic is over", None)


def test_parts() -> None:
    text = Part.from_text("안녕", filename="a.txt")
    assert text.is_text and not text.is_smil and text.content_type == "text/plain"
    image = Part.jpeg(b"\xff\xd8", filename="a.jpg")
    assert (image.content_type, image.is_text, image.data) == ("image/jpeg", False, b"\xff\xd8")
    smil = Part("application/smil", text="<smil/>")
    assert smil.is_smil and smil.is_text
    other = Part.from_bytes(b"%PDF", "application/pdf", content_id="doc@x")
    assert other.content_id == "doc@x" and other.text is None


def test_secrets_are_not_in_repr() -> None:
    message = SubmitRequest(to=["01012345678"], auth_password="hunter2")
    assert "hunter2" not in repr(message)
