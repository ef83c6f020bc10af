"""A TimeStamp we cannot read as ISO 8601 is kept as text beside the date-time, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mm7client.codec import decode, encode
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliveryReportRequest,
    MM7Message,
    ReadReplyRequest,
    ReplaceRequest,
    SubmitRequest,
)
from mm7client.profiles import LGT, THREEGPP, CarrierProfile

KST = timezone(timedelta(hours=9))


def report(**fields: object) -> DeliveryReportRequest:
    return DeliveryReportRequest(
        transaction_id="T1",
        message_id="M1",
        recipient=Address("01012345678"),
        sender=Address("0212345678"),
        mm_status="Retrieved",
        **fields,  # type: ignore[arg-type]
    )


def round_trip(message: MM7Message, profile: CarrierProfile = LGT) -> MM7Message:
    encoded = encode(message, profile)
    return decode(encoded.body, encoded.content_type)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Dec 02 05:40:59 UTC 2026", datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)),
        ("Wed Dec 02 14:40:59 KST 2026", datetime(2026, 12, 2, 14, 40, 59, tzinfo=KST)),
        ("Wed Dec 2 05:40:59 GMT+09:00 2026", datetime(2026, 12, 2, 5, 40, 59, tzinfo=KST)),
        ("Mon Feb 30 05:40:59 UTC 2026", None),  # no such day
        ("Wed Dec 02 05:40:59 PST 2026", None),  # an ambiguous zone is not guessed
        ("yesterday", None),
        ("2026.12.02 05:40", None),
    ],
)
def test_a_timestamp_that_is_not_iso_8601_is_kept_as_text(
    text: str, expected: datetime | None
) -> None:
    decoded = round_trip(report(timestamp_raw=text))
    assert isinstance(decoded, DeliveryReportRequest)
    assert decoded.timestamp == expected
    assert decoded.timestamp_raw == text  # never silently None


def test_an_iso_timestamp_needs_no_raw_text() -> None:
    stamp = datetime(2026, 12, 2, 14, 40, 59, tzinfo=KST)
    decoded = round_trip(report(timestamp=stamp))
    assert isinstance(decoded, DeliveryReportRequest)
    assert (decoded.timestamp, decoded.timestamp_raw) == (stamp, None)
    assert decoded == report(timestamp=stamp, mm7_version=LGT.mm7_version)


def test_the_raw_text_is_written_only_when_there_is_no_date_time() -> None:
    stamp = datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)
    both = encode(report(timestamp=stamp, timestamp_raw="Wed Dec 02 05:40:59 UTC 2026"), LGT)
    assert b"<TimeStamp>2026-12-02T05:40:59+00:00</TimeStamp>" in both.body
    raw = encode(report(timestamp_raw="Wed Dec 02 05:40:59 UTC 2026"), LGT)
    assert b"<TimeStamp>Wed Dec 02 05:40:59 UTC 2026</TimeStamp>" in raw.body


@pytest.mark.parametrize("profile", [LGT, THREEGPP], ids=lambda p: p.name)
def test_every_message_with_a_timestamp_keeps_its_text(profile: CarrierProfile) -> None:
    text = "Wed Dec 02 05:40:59 UTC 2026"
    messages: list[MM7Message] = [
        SubmitRequest(
            to=["01012345678"],
            vas_id="VAS",
            kisa_orig_code="123456789",
            timestamp_raw=text,
        ),
        ReplaceRequest(message_id="M1", timestamp_raw=text),
        DeliverRequest(sender="01012345678", to=["15881234"], timestamp_raw=text),
        report(timestamp_raw=text),
        ReadReplyRequest(
            message_id="M1", recipient=Address("01012345678"), mm_status="Read", timestamp_raw=text
        ),
    ]
    for message in messages:
        decoded = round_trip(message, profile)
        assert decoded.timestamp_raw == text, type(message).__name__  # type: ignore[attr-defined]
        assert decoded.timestamp == datetime(2026, 12, 2, 5, 40, 59, tzinfo=UTC)  # type: ignore[attr-defined]
