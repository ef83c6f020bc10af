"""Answer forms: what we write is read by both kinds of MM7 peers found in the wild.

The two readers (:mod:`peer_readers`: a namespace-strict one and a namespace-blind one, written
the way those peers read) read the default-namespace form (``<SubmitRsp xmlns="NS"><Status>``)
both; the prefixed form only the strict one; LG U+'s form (unqualified children) only the blind
one.
"""

from __future__ import annotations

import dataclasses

import pytest
import schema_oracle
from peer_readers import (
    BLIND_READS,
    SOAP,
    STRICT_READS,
    STYLES,
    blind_read,
    envelope_of,
    strict_read,
)

from mm7client.codec import PreparedResponse, decode, encode, summarize_request
from mm7client.model import (
    DeliverResponse,
    DeliveryReportResponse,
    MessageForm,
    Response,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

PROFILES = {"lgt": LGT, "3gpp": THREEGPP}


def answers(tid: str) -> list[Response | SoapFault]:
    return [
        SubmitResponse(transaction_id=tid, status=Status.of(1000), message_id="MID-1"),
        DeliveryReportResponse(transaction_id=tid, status=Status.of(1000)),
        DeliverResponse(transaction_id=tid, status=Status.of(1000), service_code="S1"),
        SoapFault(
            transaction_id=tid,
            fault_code="Client",
            fault_string="Client error",
            status=Status.of(2007),
        ),
    ]


def form_of(profile: CarrierProfile, style: str) -> MessageForm:
    return MessageForm(profile.namespace, profile.mm7_version, style)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
@pytest.mark.parametrize("style", STYLES)
def test_each_reader_reads_the_forms_it_can(profile: CarrierProfile, style: str) -> None:
    form = form_of(profile, style)
    for answer in answers("T-42"):
        encoded = encode(answer, profile, form=form)
        envelope = envelope_of(encoded.body, encoded.content_type)
        expected_code = "2007" if isinstance(answer, SoapFault) else "1000"
        mid = "MID-1" if isinstance(answer, SubmitResponse) else None
        strict = strict_read(envelope, profile.namespace)
        blind = blind_read(envelope)
        name = type(answer).__name__
        if STRICT_READS[style]:
            assert strict == ("T-42", expected_code, mid), (style, name)
        else:  # what instantcom-mm7 sees: status 0, no MessageID
            assert strict[1:] == (None, None), (style, name)
        if BLIND_READS[style]:
            assert blind[1:] == (expected_code, mid), (style, name)
        else:  # what mmsgw sees: no Status, it gives up
            assert blind[1] is None, (style, name)
        # the TransactionID header is read by the strict reader in every form, by the blind
        # one in the default-namespace form only
        assert strict[0] == "T-42"
        assert (blind[0] == "T-42") == (style == "default-ns")
        # and our own reader reads every form, and tells which it was
        decoded = decode(encoded.body, encoded.content_type)
        assert decoded.transaction_id == "T-42"
        assert decoded.form == form


def test_default_namespace_form_is_read_by_both() -> None:
    assert [s for s in STYLES if STRICT_READS[s] and BLIND_READS[s]] == ["default-ns"]
    # and the standard profile writes it; LGT keeps the carrier's form
    assert THREEGPP.form.style == "default-ns"
    assert LGT.form.style == "lgt"
    encoded = encode(SubmitResponse(status=Status.of(1000), message_id="M"), THREEGPP)
    assert f'<SubmitRsp xmlns="{THREEGPP.namespace}"><MM7Version>6.8.0'.encode() in encoded.body


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
@pytest.mark.parametrize("style", STYLES)
def test_every_form_validates_against_the_schema(profile: CarrierProfile, style: str) -> None:
    form = form_of(profile, style)
    kind = schema_oracle.kind_of_namespace(profile.namespace)
    request = SubmitRequest(
        to=["01012345678"],
        vasp_id="VASP",
        vas_id="VAS",
        kisa_orig_code="123456789",
        callback="15881234",
        subject="hello",
    )
    for message in [request, *answers("T-1")]:
        encoded = encode(message, profile, form=form)
        schema_oracle.validate_envelope(
            kind, envelope_of(encoded.body, encoded.content_type), style=style
        )


def test_the_schema_check_refuses_a_message_written_in_another_form() -> None:
    answer = SubmitResponse(status=Status.of(1000), message_id="M")
    default_ns = encode(answer, THREEGPP).body
    with pytest.raises(AssertionError, match="does not match style 'prefixed'"):
        schema_oracle.validate_envelope("3gpp", default_ns, style="prefixed")
    lgt_form = encode(answer, LGT).body
    with pytest.raises(AssertionError, match=r"is not in .* \(prefixed form\)"):
        schema_oracle.validate_envelope("lgt", lgt_form, style="prefixed")


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
@pytest.mark.parametrize("request_style", STYLES)
def test_a_server_answers_in_the_form_the_request_arrived_in(
    profile: CarrierProfile, request_style: str
) -> None:
    # a peer sends a request in some form, with its own MM7Version
    request_form = MessageForm(profile.namespace, "5.6.0", request_style)  # type: ignore[arg-type]
    request = SubmitRequest(
        transaction_id="REQ-7",
        to=["01012345678"],
        vasp_id="VASP",
        vas_id="VAS",
        kisa_orig_code="123456789",
        callback="15881234",
    )
    sent = encode(request, profile, form=request_form)
    summary = summarize_request(sent.body, sent.content_type)
    decoded = decode(sent.body, sent.content_type)
    assert summary.form == decoded.form == request_form
    # the answer mirrors it: namespace, MM7Version and style, from encode or a prepared answer
    response = SubmitResponse(status=Status.of(1000), message_id="MID-9")
    direct = encode(
        dataclasses.replace(response, transaction_id="REQ-7"), profile, form=summary.form
    )
    prepared = PreparedResponse(response, profile, form=summary.form).render("REQ-7", "MID-9")
    assert prepared == direct
    envelope = envelope_of(direct.body, direct.content_type)
    answer = decode(direct.body, direct.content_type)
    assert answer.form == request_form
    assert answer.mm7_version == "5.6.0"
    if STRICT_READS[request_style]:
        assert strict_read(envelope, profile.namespace) == ("REQ-7", "1000", "MID-9")
    if BLIND_READS[request_style]:
        assert blind_read(envelope)[1:] == ("1000", "MID-9")


def test_a_request_without_namespace_is_answered_in_the_profile_namespace() -> None:
    body = (
        b'<?xml version="1.0"?><env:Envelope xmlns:env="' + SOAP.encode() + b'"><env:Header>'
        b"<TransactionID>T9</TransactionID></env:Header><env:Body><CancelReq>"
        b"<MM7Version>5.3.0</MM7Version><MessageID>M1</MessageID></CancelReq></env:Body>"
        b"</env:Envelope>"
    )
    summary = summarize_request(body, "text/xml")
    assert summary.form == MessageForm("", "5.3.0", "lgt")
    encoded = encode(SubmitResponse(status=Status.of(1000), message_id="M"), LGT, form=summary.form)
    assert f'xmlns:mm7="{LGT.namespace}"'.encode() in encoded.body
    answer = decode(encoded.body, encoded.content_type)
    assert answer.form == LGT.form


def test_a_form_with_an_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="style='qualified'"):
        MessageForm(THREEGPP.namespace, "6.8.0", "qualified")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="style"):
        THREEGPP.replace(style="mirror")
