"""Round trips of every MM7 message in both profiles, and the schema oracle on what we build.

``encode`` then ``decode`` must give back the same model (content parts compared by what a
receiver can see: type, text or bytes, file name, Content-ID, headers). Every envelope we build is
validated by lxml and zeep against ``wsdl/`` (``schema_oracle``).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import pytest
import schema_oracle
from lxml import etree

from mm7client.codec import EncodedMessage, decode, encode, split_body
from mm7client.codec.mime import parse_content_type, split_multipart
from mm7client.model import (
    Address,
    CancelRequest,
    CancelResponse,
    ChargedParty,
    DeliverRequest,
    DeliverResponse,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MessageClass,
    MM7Message,
    Part,
    Priority,
    ReadReplyRequest,
    ReadReplyResponse,
    ReplaceRequest,
    ReplaceResponse,
    ReplyCharging,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

KST = timezone(timedelta(hours=9))
STAMP = datetime(2024, 5, 1, 10, 0, 0, tzinfo=KST)
# A JPEG header, every byte value (so base64 lines and CR/LF bytes inside binary data are
# exercised) and an end marker.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\r\n--\r\n\xff\xd9"
PROFILES = [pytest.param(LGT, id="lgt"), pytest.param(THREEGPP, id="3gpp")]
ORACLE_KIND = {"lgt": "lgt", "3gpp": "3gpp"}


def full_submit(profile: CarrierProfile) -> SubmitRequest:
    """A SubmitReq with every field the profile writes."""
    lgt = profile.lgt_extensions
    rel6 = profile.rel6_elements
    if lgt:
        # LGT allows one recipient per SubmitReq
        to = [Address.number("01012345678", display_only=True)]
        cc: list[Address] = []
        bcc: list[Address] = []
    else:
        to = [
            Address.number("+821012345678"),
            Address.short_code("1588", display_only=True),
            Address.email("someone@example.com"),
        ]
        cc = [Address.email("cc@example.com", display_only=True), Address.number("01022223333")]
        bcc = [Address.short_code("5678"), Address.number("01099998888", display_only=True)]
    return SubmitRequest(
        transaction_id="tx-submit-1",
        mm7_version=profile.mm7_version,
        to=to,
        cc=cc,
        bcc=bcc,
        vasp_id="MYCOMPANY",
        vas_id="MYSERVICE",
        sender_address=Address.number("0212345678"),
        callback="15881234" if lgt else None,
        service_code="gold-sp33",
        linked_id="mms00016666",
        message_class=MessageClass.ADVERTISEMENT,
        timestamp=STAMP,
        reply_charging=ReplyCharging(32000, timedelta(days=3)),
        earliest_delivery_time=STAMP + timedelta(hours=1),
        expiry_date=timedelta(days=2, hours=3, minutes=4, seconds=5),
        delivery_report=True,
        read_reply=False,
        priority=Priority.HIGH,
        subject="(광고) 오늘의 소식",
        charged_party=ChargedParty.SENDER,
        distribution_indicator=False,
        kisa_orig_code="123456789" if lgt else None,
        applic_id="app-1" if rel6 else None,
        reply_applic_id="app-2" if rel6 else None,
        aux_applic_info="aux & <info>" if rel6 else None,
        charged_party_id="billing-1" if rel6 else None,
        delivery_condition=[1, 2, 30] if rel6 else [],
        content_class="image-basic" if rel6 else None,
        drm_content=False if rel6 else None,
        content=[
            Part(
                "text/plain",
                text="안녕하세요. MM7 본문입니다.\r\n두 번째 줄 & <태그>",
                filename="body.txt",
                content_id="text-1@example",
                headers={"X-Kmms-SVCCODE": "123412345678", "X-Kmms-redistribution": "0"},
            ),
            Part.jpeg(JPEG, filename="photo.jpg"),
        ],
        allow_adaptations=True,
    )


def sample_messages(profile: CarrierProfile) -> list[MM7Message]:
    """One message of every type, each with every optional field the profile writes."""
    version = profile.mm7_version
    lgt = profile.lgt_extensions
    rel6 = profile.rel6_elements
    return [
        full_submit(profile),
        CancelRequest(
            transaction_id="tx-cancel",
            mm7_version=version,
            message_id="msg-0001",
            vasp_id="MYCOMPANY",
            vas_id="MYSERVICE",
            sender_address=Address.short_code("1588"),
        ),
        ReplaceRequest(
            transaction_id="tx-replace",
            mm7_version=version,
            message_id="msg-0001",
            vasp_id="MYCOMPANY",
            vas_id="MYSERVICE",
            service_code="gold-sp33",
            timestamp=STAMP,
            read_reply=True,
            earliest_delivery_time=timedelta(minutes=30),
            distribution_indicator=True,
            content=[Part.from_text("바뀐 본문", content_id="new-text@example")],
            allow_adaptations=False,
        ),
        SubmitResponse(
            transaction_id="tx-submit-1",
            mm7_version=version,
            status=Status.of(1000, "Success", "accepted"),
            message_id="041502073667",
        ),
        SubmitResponse(
            transaction_id="tx-submit-2",
            mm7_version=version,
            status=Status.of(4030, "System error"),
        ),
        CancelResponse(
            transaction_id="tx-cancel", mm7_version=version, status=Status.of(1000, "Success")
        ),
        ReplaceResponse(
            transaction_id="tx-replace", mm7_version=version, status=Status.of(2005, "No such ID")
        ),
        DeliverRequest(
            transaction_id="tx-deliver",
            mm7_version=version,
            mms_relay_server_id="lgt-mmsc",
            linked_id="link-1",
            sender=Address.number("01012345678"),
            to=[Address.short_code("1588")],
            cc=[Address.email("cc@example.com", display_only=True)],
            bcc=[Address.number("01055556666")],
            timestamp=STAMP,
            reply_charging_id="rc-1",
            priority=Priority.LOW,
            subject="답장입니다",
            applic_id="app-1" if rel6 else None,
            reply_applic_id="app-2" if rel6 else None,
            aux_applic_info="aux" if rel6 else None,
            content=[
                Part.from_text("모바일에서 보낸 글", content_id="mo-text@example"),
                Part.jpeg(JPEG, filename="mo.jpg"),
            ],
        ),
        DeliverResponse(
            transaction_id="tx-deliver",
            mm7_version=version,
            status=Status.of(1000, "Success"),
            service_code="svc-9",
        ),
        DeliveryReportRequest(
            transaction_id="tx-report",
            mm7_version=version,
            mms_relay_server_id="lgt-mmsc",
            message_id="041502073667",
            recipient=Address.number("01012345678"),
            sender=Address.number("0212345678"),
            timestamp=STAMP,
            mm_status="Retrieved",
            status_text="OK",
            called_net="LGT" if lgt else None,
            applic_id="app-1" if rel6 else None,
            reply_applic_id="app-2" if rel6 else None,
            aux_applic_info="aux" if rel6 else None,
        ),
        DeliveryReportResponse(
            transaction_id="tx-report", mm7_version=version, status=Status.of(1000, "Success")
        ),
        ReadReplyRequest(
            transaction_id="tx-read",
            mm7_version=version,
            mms_relay_server_id="lgt-mmsc",
            message_id="041502073667",
            recipient=Address.number("01012345678"),
            sender=Address.number("0212345678"),
            timestamp=STAMP,
            mm_status="Read",
            status_text="읽음",
            applic_id="app-1" if rel6 else None,
            reply_applic_id="app-2" if rel6 else None,
            aux_applic_info="aux" if rel6 else None,
        ),
        ReadReplyResponse(
            transaction_id="tx-read", mm7_version=version, status=Status.of(1000, "Success")
        ),
        SoapFault(
            transaction_id="tx-fault-1",
            mm7_version=version,
            fault_code="Server",
            fault_string="Server error",
            detail_kind="RSErrorRsp",
            status=Status.of(4030, "System error", "resend after 60 s"),
        ),
        SoapFault(
            transaction_id="tx-fault-2",
            mm7_version=version,
            fault_code="Client",
            fault_string="Client error",
            detail_kind="VASPErrorRsp",
            status=Status.of(4004, "Validation error"),
        ),
    ]


def _ids(profile: CarrierProfile) -> list[str]:
    return [type(m).__name__ for m in sample_messages(profile)]


def envelope_of(encoded: EncodedMessage) -> bytes:
    return split_body(encoded.body, encoded.content_type).envelope


def assert_same_parts(built: list[Part], decoded: list[Part], profile: CarrierProfile) -> None:
    """Decoded content equals what was built: the generated SMIL part comes first."""
    assert decoded, "decoded message lost its content"
    smil, *rest = decoded
    assert smil.content_type == "application/smil"
    assert smil.text is not None and "<smil>" in smil.text
    assert len(rest) == len(built)
    for want, got in zip(built, rest, strict=True):
        assert got.content_type == want.content_type
        assert got.filename == want.filename
        if want.content_id is not None:
            assert got.content_id == want.content_id
        else:
            assert got.content_id  # generated
        if want.text is not None:
            assert got.text == want.text
            assert got.data == want.text.encode(profile.codec)
            assert got.charset == profile.charset
        else:
            assert got.data == want.data
            assert got.text is None
        for name, value in want.headers.items():
            assert got.headers[name.lower()] == value
        # every SMIL reference names a real part
        assert f'src="cid:{got.content_id}"' in smil.text


def assert_round_trip(message: MM7Message, profile: CarrierProfile) -> MM7Message:
    encoded = encode(message, profile)
    decoded = decode(encoded.body, encoded.content_type)
    assert type(decoded) is type(message)
    for field in dataclasses.fields(message):
        want = getattr(message, field.name)
        got = getattr(decoded, field.name)
        if field.name == "content" and want:
            assert_same_parts(want, got, profile)
        elif field.name == "form":
            # a decoded message tells the form it arrived in: the profile's (a fault, only
            # when its detail holds an MM7 element)
            version = message.mm7_version or profile.mm7_version
            if isinstance(message, SoapFault) and message.status is None:
                assert got is None
            else:
                assert got == dataclasses.replace(profile.form, version=version)
        else:
            assert got == want, f"{type(message).__name__}.{field.name}: {got!r} != {want!r}"
    return decoded


@pytest.mark.parametrize("profile", PROFILES)
def test_every_message_round_trips(profile: CarrierProfile) -> None:
    messages = sample_messages(profile)
    assert {type(m) for m in messages} == {
        SubmitRequest,
        CancelRequest,
        ReplaceRequest,
        SubmitResponse,
        CancelResponse,
        ReplaceResponse,
        DeliverRequest,
        DeliverResponse,
        DeliveryReportRequest,
        DeliveryReportResponse,
        ReadReplyRequest,
        ReadReplyResponse,
        SoapFault,
    }
    for message in messages:
        assert_round_trip(message, profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_built_envelope_passes_the_schema_oracle(profile: CarrierProfile) -> None:
    for message in sample_messages(profile):
        schema_oracle.validate_envelope(
            ORACLE_KIND[profile.name], envelope_of(encode(message, profile))
        )


@pytest.mark.parametrize("profile", PROFILES)
def test_minimal_messages_round_trip_and_validate(profile: CarrierProfile) -> None:
    minimal: list[MM7Message] = [
        SubmitRequest(
            to=["01012345678"],
            vas_id="svc",
            kisa_orig_code="123456789" if profile.require_kisa_orig_code else None,
        ),
        CancelRequest(message_id="m-1"),
        ReplaceRequest(message_id="m-1"),
        SubmitResponse(status=Status.of(1000)),
        SoapFault(fault_code="Server", fault_string="boom", status=Status.of(3000)),
    ]
    for message in minimal:
        encoded = encode(message, profile)
        schema_oracle.validate_envelope(ORACLE_KIND[profile.name], envelope_of(encoded))
        decoded = decode(encoded.body, encoded.content_type)
        # the encoder generated a TransactionID and used the profile's MM7Version
        assert decoded.transaction_id == encoded.transaction_id
        assert re.fullmatch(r"[0-9a-f]{32}", encoded.transaction_id)
        assert decoded.mm7_version == profile.mm7_version
        assert encoded.headers["Content-Length"] == str(len(encoded.body))
        assert encoded.headers["SOAPAction"] == '""'


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1000, "Success"),
        (2007, "Message format corrupt"),
        (4030, "General service error"),
        (6024, "Server Error"),
    ],
)
def test_status_without_text_gets_the_standard_text(code: int, text: str) -> None:
    """StatusText is mandatory in TS 23.140: the encoder fills in the standard one."""
    encoded = encode(SubmitResponse(status=Status.of(code)), LGT)
    schema_oracle.validate_envelope("lgt", encoded.body)
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitResponse)
    assert decoded.status == Status(str(code), text)


@pytest.mark.parametrize("profile", PROFILES)
def test_fault_without_detail_round_trips(profile: CarrierProfile) -> None:
    fault = SoapFault(transaction_id="t", fault_code="Client", fault_string="no detail")
    decoded = assert_round_trip(fault, profile)
    assert isinstance(decoded, SoapFault) and decoded.status is None


def test_rel6_submit_children_are_in_ts_23140_order() -> None:
    """REL-6: ... Priority, Subject, ChargedParty, ChargedPartyID, DistributionIndicator,
    DeliveryCondition, ApplicID, ReplyApplicID, AuxApplicInfo, ContentClass, DRMContent, Content."""
    root = etree.fromstring(envelope_of(encode(full_submit(THREEGPP), THREEGPP)))
    submit = root.find(".//{*}SubmitReq")
    assert submit is not None
    names = [etree.QName(c).localname for c in submit]
    assert names == [
        "MM7Version",
        "SenderIdentification",
        "Recipients",
        "ServiceCode",
        "LinkedID",
        "MessageClass",
        "TimeStamp",
        "ReplyCharging",
        "EarliestDeliveryTime",
        "ExpiryDate",
        "DeliveryReport",
        "ReadReply",
        "Priority",
        "Subject",
        "ChargedParty",
        "ChargedPartyID",
        "DistributionIndicator",
        "DeliveryCondition",
        "ApplicID",
        "ReplyApplicID",
        "AuxApplicInfo",
        "ContentClass",
        "DRMContent",
        "Content",
    ]
    condition = submit.find("{*}DeliveryCondition")
    assert condition is not None
    assert [dc.text for dc in condition] == ["1", "2", "30"]
    # every child is qualified with the REL-6-MM7-1-4 namespace
    assert {etree.QName(c).namespace for c in submit.iter() if c is not submit} == {
        THREEGPP.namespace
    }


def test_lgt_submit_is_in_the_carrier_form() -> None:
    envelope = envelope_of(encode(full_submit(LGT), LGT))
    assert envelope.startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
    assert "(광고) 오늘의 소식".encode("euc-kr") in envelope
    root = etree.fromstring(envelope)
    submit = root.find(".//{*}SubmitReq")
    assert submit is not None and submit.tag == f"{{{LGT.namespace}}}SubmitReq"
    # children unqualified
    assert all(etree.QName(c).namespace is None for c in submit.iter() if c is not submit)
    names = [etree.QName(c).localname for c in submit]
    assert names[-5:] == [
        "ChargedParty",
        "DistributionIndicator",
        "KisaOrigCode",
        "Subject",
        "Content",
    ]
    assert submit.findtext("MM7Version") == "5.3.0"
    assert submit.findtext("DeliveryReport") == "True"
    assert submit.findtext("DistributionIndicator") == "False"
    assert submit.findtext("KisaOrigCode") == "123456789"
    assert submit.findtext("SenderIdentification/CallBack") == "15881234"
    assert submit.find("Recipients/To/Number").get("displayOnly") == "True"
    content = submit.find("Content")
    assert content is not None and content.get("allowAdaptations") == "True"


def test_lgt_profile_can_write_href_without_colon() -> None:
    profile = LGT.replace(href_prefix="cid ")
    encoded = encode(full_submit(LGT), profile)
    envelope = envelope_of(encoded)
    href = etree.fromstring(envelope).find(".//Content").get("href")
    assert href.startswith("cid ") and ":" not in href
    schema_oracle.validate_envelope("lgt", envelope)
    assert_round_trip(full_submit(LGT), profile)


@pytest.mark.parametrize("profile", PROFILES)
def test_multipart_layout(profile: CarrierProfile) -> None:
    """multipart/related with type and start; Content href names the content part; SMIL first."""
    encoded = encode(full_submit(profile), profile)
    media, params = parse_content_type(encoded.content_type)
    assert media == "multipart/related"
    assert params["type"] == "text/xml"
    assert params["start"].startswith("<") and params["start"].endswith(">")
    soap, content = split_multipart(encoded.body, params["boundary"])
    assert soap.content_id == params["start"][1:-1]
    assert soap.content_type == "text/xml"
    assert soap.params["charset"] == profile.charset
    href = etree.fromstring(soap.body).find(".//{*}Content").get("href")
    assert href == profile.href_prefix + content.content_id
    assert content.content_type == "multipart/related"
    assert content.params["type"] == "application/smil"
    inner = split_multipart(content.body, content.params["boundary"])
    assert inner[0].content_id == content.params["start"][1:-1]
    assert [p.content_type for p in inner] == ["application/smil", "text/plain", "image/jpeg"]
    ids = [soap.content_id, content.content_id, *(p.content_id for p in inner)]
    assert len(set(ids)) == len(ids), "Content-IDs must be unique"
    assert [p.headers["content-transfer-encoding"] for p in inner] == ["7bit", "8bit", "base64"]
    assert inner[2].headers["content-location"] == "photo.jpg"
    assert inner[1].headers["x-kmms-svccode"] == "123412345678"
    # base64 lines are at most 76 characters, CRLF-separated
    raw_image = encoded.body.split(b"Content-Location: photo.jpg\r\n\r\n", 1)[1]
    lines = raw_image.split(b"\r\n--", 1)[0].split(b"\r\n")
    assert len(lines) > 10 and all(len(line) <= 76 for line in lines)


def test_content_without_smil_is_multipart_mixed() -> None:
    message = full_submit(THREEGPP)
    message.smil = False
    encoded = encode(message, THREEGPP)
    _, params = parse_content_type(encoded.content_type)
    _, content = split_multipart(encoded.body, params["boundary"])
    assert content.content_type == "multipart/mixed"
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitRequest)
    assert [p.content_type for p in decoded.content] == ["text/plain", "image/jpeg"]


def test_caller_smil_is_used_as_is() -> None:
    smil = '<smil><body><par><text src="cid:t1"/></par></body></smil>'
    message = SubmitRequest(
        to=["01012345678"],
        content=[
            Part("application/smil", text=smil, content_id="s1"),
            Part.from_text("hi", content_id="t1"),
        ],
    )
    encoded = encode(message, THREEGPP)
    _, params = parse_content_type(encoded.content_type)
    _, content = split_multipart(encoded.body, params["boundary"])
    assert content.params["start"] == "<s1>"
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitRequest)
    assert [(p.content_id, p.text) for p in decoded.content] == [("s1", smil), ("t1", "hi")]


def test_generated_smil_pairs_images_with_text() -> None:
    parts = [
        Part.from_text("one", content_id="t1"),
        Part.jpeg(b"\xff\xd8a", filename="a.jpg"),
        Part.from_text("two", content_id="t2"),
        Part.jpeg(b"\xff\xd8b", filename="b.jpg"),
    ]
    encoded = encode(SubmitRequest(to=["01012345678"], content=parts), THREEGPP)
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitRequest)
    smil = etree.fromstring(decoded.content[0].data)
    slides = smil.findall("body/par")
    assert len(slides) == 2
    assert [[e.tag for e in s] for s in slides] == [["text", "img"], ["text", "img"]]
    assert slides[0][0].get("src") == "cid:t1" and slides[1][0].get("src") == "cid:t2"


def test_decoded_text_keeps_crlf_and_markup() -> None:
    decoded = assert_round_trip(full_submit(LGT), LGT)
    assert isinstance(decoded, SubmitRequest)
    assert decoded.content[1].text == "안녕하세요. MM7 본문입니다.\r\n두 번째 줄 & <태그>"


def test_user_defined_profile_round_trips() -> None:
    profile = THREEGPP.replace(
        name="acme",
        namespace=THREEGPP.namespace.replace("REL-6-MM7-1-4", "REL-5-MM7-1-3"),
        mm7_version="5.6.0",
        charset="euc-kr",
        codec="euc_kr",
        rel6_elements=False,
        boolean_style="title",
    )
    message = full_submit(profile)
    encoded = encode(message, profile)
    # the standard profile's form: the MM7 namespace as default namespace
    assert f'<SubmitReq xmlns="{profile.namespace}">'.encode() in encoded.body
    assert_round_trip(message, profile)
