"""PreparedResponse: a response encoded once renders the bytes encode() gives it, id by id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mm7client.codec import PreparedResponse, decode, encode
from mm7client.errors import ValidationError
from mm7client.model import (
    CancelResponse,
    DeliveryReportResponse,
    FormStyle,
    MessageForm,
    ReplaceResponse,
    Response,
    Status,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

UTF16 = THREEGPP.replace(name="utf16", charset="utf-16", codec="utf-16")
PROFILES = [LGT, THREEGPP, UTF16]
STYLES: list[FormStyle] = ["lgt", "default-ns", "prefixed"]

# text XML can carry (no control characters, no surrogates); EUC-KR writes what it lacks as
# character references, as encode() does
xml_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)


def _same(prepared: PreparedResponse, response: Response, tid: str, mid: str | None) -> None:
    rendered = prepared.render(tid, mid)
    ids: dict[str, str | None] = {"transaction_id": rendered.transaction_id}
    if isinstance(response, SubmitResponse):
        ids["message_id"] = mid
    expected = encode(
        type(response)(status=response.status, **ids), prepared.profile, form=prepared.form
    )
    assert rendered == expected


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@given(tid=xml_text, mid=xml_text, text=xml_text)
def test_submit_response_renders_as_encode_does(
    profile: CarrierProfile, style: FormStyle, tid: str, mid: str, text: str
) -> None:
    status = Status("1000", text)
    form = MessageForm(profile.namespace, "5.6.0", style)
    prepared = PreparedResponse(SubmitResponse(status=status, message_id="any"), profile, form=form)
    assert prepared.has_message_id and prepared.form == form
    _same(prepared, SubmitResponse(status=status), tid, mid)
    refused = PreparedResponse(SubmitResponse(status=Status("4030", text)), profile, form=form)
    assert not refused.has_message_id
    _same(refused, SubmitResponse(status=Status("4030", text)), tid, None)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", [CancelResponse, ReplaceResponse, DeliveryReportResponse])
def test_other_responses_render_as_encode_does(
    profile: CarrierProfile, kind: type[Response], style: FormStyle
) -> None:
    response = kind(status=Status("2005", "메시지 없음 & <2005>"))
    prepared = PreparedResponse(response, profile, form=MessageForm(profile.namespace, "", style))
    for tid in ("0123abcd", "T&<1>", "트랜잭션", ""):
        _same(prepared, response, tid, None)


def test_the_rendered_answer_decodes_with_its_ids() -> None:
    prepared = PreparedResponse(SubmitResponse(status=Status.of(1000, "성공"), message_id=""), LGT)
    rendered = prepared.render("T-1", "20261202000000AB0000001")
    answer = decode(rendered.body, rendered.content_type)
    assert isinstance(answer, SubmitResponse)
    assert (answer.transaction_id, answer.message_id) == ("T-1", "20261202000000AB0000001")
    assert answer.status == Status.of(1000, "성공")


def test_an_empty_transaction_id_gets_a_fresh_one() -> None:
    prepared = PreparedResponse(CancelResponse(status=Status.of(1000, "성공")), LGT)
    rendered = prepared.render("")
    assert len(rendered.transaction_id) == 32
    assert rendered.transaction_id.encode() in rendered.body


@pytest.mark.parametrize("field", ["TransactionID", "MessageID"])
def test_ids_are_checked_as_encode_checks_them(field: str) -> None:
    """Text XML cannot carry is refused by name, by render() as by encode()."""
    prepared = PreparedResponse(SubmitResponse(status=Status.of(1000, "성공"), message_id=""), LGT)
    ids = {"TransactionID": "T-1", "MessageID": "M-1"}
    ids[field] = "bad\x01id"
    with pytest.raises(ValidationError, match=field):
        prepared.render(ids["TransactionID"], ids["MessageID"])
    response = SubmitResponse(
        transaction_id=ids["TransactionID"], status=Status.of(1000), message_id=ids["MessageID"]
    )
    with pytest.raises(ValidationError, match=field):
        encode(response, LGT)


def test_the_message_id_must_match_the_prepared_response() -> None:
    with_id = PreparedResponse(SubmitResponse(status=Status.of(1000), message_id=""), LGT)
    without = PreparedResponse(SubmitResponse(status=Status.of(2002)), LGT)
    with pytest.raises(ValueError, match="message_id=None: this response takes a MessageID"):
        with_id.render("T-1")
    with pytest.raises(ValueError, match="message_id='M': this response takes no MessageID"):
        without.render("T-1", "M")


def test_only_responses_can_be_prepared() -> None:
    with pytest.raises(TypeError, match="not an MM7 response"):
        PreparedResponse(Status.of(1000), LGT)  # type: ignore[arg-type]
