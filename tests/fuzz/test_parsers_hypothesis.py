"""Property tests of the parsers and the codec.

* Random bytes, random content types, and truncations / mutations of valid encoded messages never
  make ``decode``, ``split_body`` or ``mime.split_multipart`` raise anything but ``ParseError``;
  on all of them ``summarize_request`` (the mock's read of the envelope) accepts and refuses
  exactly what an envelope-only ``decode`` does and agrees with it on every field.
* Valid models (SubmitReq with Korean text, responses) round-trip in both profiles, and their
  summaries match the decoded messages.

Settings: the default profile keeps this file fast in CI; ``HYPOTHESIS_PROFILE=long`` runs many
more examples. ``tests/fuzz/fuzz_decode.py`` is the open-ended fuzzer for outside CI.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from summary_oracle import assert_summary_agrees

from mm7client.codec import Limits, decode, encode, split_body
from mm7client.codec.mime import split_multipart
from mm7client.errors import ParseError
from mm7client.model import (
    Address,
    CancelRequest,
    DeliveryReportRequest,
    MessageClass,
    MM7Message,
    Part,
    Priority,
    SoapFault,
    Status,
    SubmitRequest,
    SubmitResponse,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
# small limits so generated inputs reach every limit check
SMALL_LIMITS = Limits(max_body_bytes=64_000, max_xml_bytes=32_000, max_parts=20)
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def _golden_corpus() -> list[tuple[bytes, str]]:
    corpus = []
    for path in sorted(GOLDEN.glob("*.http")):
        head, body = path.read_bytes().split(b"\r\n\r\n", 1)
        corpus.append((body, head.decode("ascii").partition(":")[2].strip()))
    return corpus


def _encoded_corpus() -> list[tuple[bytes, str]]:
    corpus = []
    for profile in (LGT, THREEGPP):
        for message in (
            SubmitRequest(
                to=["01012345678"],
                vas_id="svc",
                kisa_orig_code="123456789",
                subject="안녕하세요",
                content=[Part.from_text("본문 & <텍스트>"), Part.jpeg(JPEG, filename="a.jpg")],
            ),
            SubmitResponse(status=Status.of(1000, "Success"), message_id="m-1"),
            CancelRequest(message_id="m-1"),
            DeliveryReportRequest(
                message_id="m-1", recipient=Address("01012345678"), mm_status="Retrieved"
            ),
            SoapFault(
                fault_code="Server", fault_string="x", status=Status.of(4030, "System error")
            ),
        ):
            encoded = encode(message, profile)
            corpus.append((encoded.body, encoded.content_type))
    return corpus


CORPUS = _golden_corpus() + _encoded_corpus()

content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/xml",
            'text/xml; charset="euc-kr"',
            "text/xml; charset=utf-16",
            "text/xml; charset=bogus-charset",
            "multipart/related; boundary=B",
            'multipart/related; boundary="----=_MM7_x"; type="text/xml"; start="<soap>"',
            "multipart/related",
            "multipart/mixed; boundary=",
            "application/octet-stream",
            "",
        ]
    ),
    st.text(max_size=80),
    st.builds(
        lambda b, s: f'multipart/related; boundary="{b}"; start="{s}"',
        st.text(max_size=30),
        st.text(max_size=30),
    ),
)


def assert_only_parse_error(body: bytes, content_type: str | None) -> None:
    """decode and split_body either succeed or raise ParseError; nothing else escapes."""
    try:
        message = decode(body, content_type, SMALL_LIMITS)
    except ParseError as exc:
        assert exc.status_code in (2004, 2007, 4003, 4004)
    else:
        assert isinstance(message, MM7Message)
    try:
        split = split_body(body, content_type, SMALL_LIMITS)
    except ParseError as exc:
        assert exc.status_code in (2004, 2007)
    else:
        assert isinstance(split.envelope, bytes)
    assert_summary_agrees(body, content_type, SMALL_LIMITS)


@given(st.binary(max_size=2000), content_types)
def test_random_bytes_only_raise_parse_error(body: bytes, content_type: str | None) -> None:
    assert_only_parse_error(body, content_type)


@given(st.binary(max_size=2000), st.text(min_size=0, max_size=50))
def test_split_multipart_only_raises_parse_error(body: bytes, boundary: str) -> None:
    try:
        parts = split_multipart(body, boundary, SMALL_LIMITS)
        assert 1 <= len(parts) <= SMALL_LIMITS.max_parts
        for part in parts:  # headers and bodies are read lazily: read them all
            assert isinstance(part.headers, dict) and isinstance(part.body, bytes)
    except ParseError as exc:
        assert exc.status_code in (2004, 2007)


xmlish = st.lists(
    st.sampled_from(
        [
            "<",
            ">",
            "</",
            "/>",
            "env:",
            "mm7:",
            "Envelope",
            "Body",
            "Header",
            "SubmitRsp",
            "DeliverReq",
            "Status",
            "StatusCode",
            "Fault",
            "detail",
            "Content",
            ' href="cid:x"',
            ' xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"',
            ' xmlns:mm7="urn:x"',
            "1000",
            "&amp;",
            "&#0;",
            "<![CDATA[",
            "]]>",
            "<!--",
            "-->",
            "<?xml version='1.0' encoding='euc-kr'?>",
            "한글",
            "\r\n",
            "--B",
            "Content-Type: text/xml",
        ]
    ),
    max_size=60,
).map("".join)


@given(xmlish, st.sampled_from(["utf-8", "euc-kr", "utf-16"]), content_types)
def test_xml_like_text_only_raises_parse_error(
    text: str, charset: str, content_type: str | None
) -> None:
    assert_only_parse_error(text.encode(charset, "replace"), content_type)


@given(st.sampled_from(CORPUS), st.data())
def test_truncated_valid_messages_only_raise_parse_error(
    sample: tuple[bytes, str], data: st.DataObject
) -> None:
    body, content_type = sample
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    assert_only_parse_error(body[:cut], content_type)
    assert_only_parse_error(body[cut:], content_type)


@given(st.sampled_from(CORPUS), st.data())
def test_mutated_valid_messages_only_raise_parse_error(
    sample: tuple[bytes, str], data: st.DataObject
) -> None:
    body, content_type = sample
    mutated = bytearray(body)
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "duplicate"]))
        position = data.draw(st.integers(min_value=0, max_value=max(len(mutated) - 1, 0)))
        if kind == "flip" and mutated:
            mutated[position] = data.draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            mutated[position:position] = data.draw(st.binary(min_size=1, max_size=20))
        elif kind == "delete":
            del mutated[position : position + data.draw(st.integers(1, 40))]
        else:
            mutated[position:position] = mutated[position : position + 200]
    assert_only_parse_error(bytes(mutated), content_type)
    _, _, rest = content_type.partition("boundary=")
    boundary = rest.split(";")[0].strip('"')
    try:
        parts = split_multipart(bytes(mutated), boundary, SMALL_LIMITS)
        assert len(parts) <= SMALL_LIMITS.max_parts
        for part in parts:  # headers and bodies are read lazily: read them all
            assert isinstance(part.headers, dict) and isinstance(part.body, bytes)
    except ParseError as exc:
        assert exc.status_code in (2004, 2007)


# ------------------------------------------------------------------------------- round trips

# EUC-KR (KS X 1001) holds 2,350 of the 11,172 Hangul syllables; validation refuses the others
KS_X_1001_HANGUL = [c for c in map(chr, range(0xAC00, 0xD7A4)) if len(c.encode("euc_kr")) == 2]
EUC_KR_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(KS_X_1001_HANGUL),
        st.sampled_from(" .,!?&<>\"'0123456789abcXYZ\r\n()[]"),
    ),
    max_size=300,
)
numbers = st.from_regex(r"\+?0[0-9]{9,12}", fullmatch=True)
# the LGT profile knows Korean numbering: mobile recipients, callbacks a sender may show
korean_mobiles = st.from_regex(r"010[0-9]{8}|01[16789][0-9]{7,8}|\+8210[0-9]{8}", fullmatch=True)
korean_callbacks = st.from_regex(r"1[568][0-9]{6}|02[0-9]{7,8}|0(31|51)[0-9]{7,8}", fullmatch=True)
times = st.one_of(
    st.none(),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]),
    ).map(lambda d: d.replace(microsecond=0)),
)


@st.composite
def submit_requests(draw: st.DrawFn, profile: CarrierProfile) -> SubmitRequest:
    lgt = profile is LGT
    subject = draw(st.one_of(st.none(), EUC_KR_TEXT.map(lambda t: t.strip()[:20] or "제목")))
    texts = draw(st.lists(EUC_KR_TEXT.map(lambda t: t[:900]), min_size=0, max_size=2))
    images = draw(st.lists(st.binary(min_size=1, max_size=3000), max_size=2))
    content = [Part.from_text(t) for t in texts] + [
        Part.jpeg(JPEG[:4] + data, filename=f"img{i}.jpg") for i, data in enumerate(images)
    ]
    return SubmitRequest(
        transaction_id=draw(st.from_regex(r"[A-Za-z0-9-]{1,40}", fullmatch=True)),
        mm7_version=profile.mm7_version,
        to=[
            Address.number(
                draw(korean_mobiles if lgt else numbers), display_only=draw(st.booleans())
            )
        ],
        cc=[] if lgt else draw(st.lists(numbers.map(Address.number), max_size=3)),
        vasp_id=draw(st.from_regex(r"[A-Z]{3,10}", fullmatch=True)),
        vas_id=draw(st.from_regex(r"[A-Z0-9]{3,10}", fullmatch=True)),
        kisa_orig_code=draw(st.from_regex(r"[0-9]{9}", fullmatch=True)) if lgt else None,
        callback=draw(korean_callbacks) if lgt else None,
        subject=subject,
        timestamp=draw(times),
        message_class=draw(st.one_of(st.none(), st.sampled_from(MessageClass))),
        priority=draw(st.one_of(st.none(), st.sampled_from(Priority))),
        delivery_report=draw(st.one_of(st.none(), st.booleans())),
        read_reply=draw(st.one_of(st.none(), st.booleans())),
        distribution_indicator=draw(st.one_of(st.none(), st.booleans())),
        content=content,
        allow_adaptations=draw(st.one_of(st.none(), st.booleans())) if content else None,
        smil=draw(st.sampled_from([None, False])),
    )


def _check_submit_round_trip(message: SubmitRequest, profile: CarrierProfile) -> None:
    encoded = encode(message, profile)
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitRequest)
    assert_summary_agrees(encoded.body, encoded.content_type, Limits())
    for name in (
        "transaction_id",
        "mm7_version",
        "to",
        "cc",
        "vasp_id",
        "vas_id",
        "kisa_orig_code",
        "callback",
        "timestamp",
        "message_class",
        "priority",
        "delivery_report",
        "read_reply",
        "distribution_indicator",
        "allow_adaptations",
    ):
        assert getattr(decoded, name) == getattr(message, name), name
    # XML normalizes CR LF to LF in element text and strips surrounding blanks
    expected_subject = message.subject
    if expected_subject is not None:
        expected_subject = expected_subject.replace("\r\n", "\n").replace("\r", "\n").strip()
    assert decoded.subject == expected_subject
    got = [p for p in decoded.content if not (p.is_smil and message.smil is None)]
    assert len(got) == len(message.content)
    for want, part in zip(message.content, got, strict=True):
        assert part.content_type == want.content_type
        if want.text is not None:
            assert part.text == want.text
        else:
            assert part.data == want.data
            assert part.filename == want.filename


@given(submit_requests(LGT))
def test_lgt_submit_requests_round_trip(message: SubmitRequest) -> None:
    _check_submit_round_trip(message, LGT)


@given(submit_requests(THREEGPP))
def test_3gpp_submit_requests_round_trip(message: SubmitRequest) -> None:
    _check_submit_round_trip(message, THREEGPP)


@given(
    st.sampled_from([LGT, THREEGPP]),
    st.integers(min_value=0, max_value=99999).map(str),
    st.one_of(st.none(), EUC_KR_TEXT.map(lambda t: t.strip())),
    st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9.-]{1,40}", fullmatch=True)),
)
def test_submit_responses_round_trip(
    profile: CarrierProfile, code: str, text: str | None, message_id: str | None
) -> None:
    message = SubmitResponse(
        transaction_id="t", status=Status(code, text or None), message_id=message_id
    )
    encoded = encode(message, profile)
    decoded = decode(encoded.body, encoded.content_type)
    assert isinstance(decoded, SubmitResponse)
    assert decoded.status.code == code
    if text:
        assert decoded.status.text == text.replace("\r\n", "\n").replace("\r", "\n").strip()
    assert decoded.message_id == message_id
