"""What the mock records and answers for bodies it refuses: the request's TransactionID is
echoed whenever its SOAP header was readable, a truncated body is never acknowledged, and a
TimeStamp it cannot parse is kept as text."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import encode
from mm7client.model import Part, SoapFault
from mm7client.profiles import LGT
from mockmmsc import MockMMSC
from mockmmsc.testing import lgt_submit, post_mm7


@pytest_asyncio.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


def multipart(tid: str = "TID-CUT"):
    """A multipart SubmitReq with a text part and a JPEG, and its boundary."""
    jpeg = Part.jpeg(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, filename="photo.jpg")
    encoded = encode(lgt_submit(transaction_id=tid, content=[Part.from_text("사진"), jpeg]), LGT)
    boundary = re.search(r'boundary="?([^";]+)', encoded.content_type)
    assert boundary is not None
    return encoded.body, encoded.content_type, boundary.group(1).encode()


def cut_bodies() -> dict[str, bytes]:
    body, _, boundary = multipart()
    closing = b"--" + boundary + b"--"
    assert body.rstrip().endswith(closing)
    last_part = body.rindex(b"--" + boundary + b"\r\n")
    header_end = body.index(b"\r\n\r\n", last_part)
    return {
        # the whole last part, but no closing delimiter: the sender was cut off at the end
        "no closing delimiter": body[: body.rindex(closing)],
        # cut in the middle of the JPEG part's content
        "cut mid-content": body[: (header_end + len(body)) // 2],
        # cut in the middle of the last part's headers
        "cut mid-header": body[: (last_part + header_end) // 2],
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", list(cut_bodies()))
async def test_a_truncated_multipart_is_refused_with_2007(mmsc: MockMMSC, session, kind):
    _, content_type, _ = multipart()
    answer = await post_mm7(session, mmsc.url, cut_bodies()[kind], content_type=content_type)
    assert answer.http_status == 500, kind
    assert isinstance(answer.message, SoapFault), kind
    assert answer.status_code == 2007, kind
    # the SOAP header was readable: the fault and the record carry the request's TransactionID
    assert answer.message.transaction_id == "TID-CUT", kind
    (item,) = mmsc.messages
    assert item.status_code == 2007 and item.message_id is None
    assert item.transaction_id == "TID-CUT"
    assert item.reports == []
    async with session.get(f"{mmsc.base_url}/api/messages/{item.id}") as response:
        shown = await response.json()
    assert shown["transaction_id"] == "TID-CUT" and shown["status_code"] == 2007


@pytest.mark.asyncio
async def test_a_body_short_of_its_content_length_is_never_acknowledged(mmsc: MockMMSC):
    body, content_type, _ = multipart()
    head = (
        f"POST /mm7 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body) + 500}\r\nConnection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", mmsc.port)
    writer.write(head + body)
    await writer.drain()
    writer.write_eof()  # the sender stops short of the length it announced
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    # the connection is gone before an answer can be written (aiohttp closes it at the
    # early end of the body); whatever was written is no acceptance
    assert b" 200 " not in answer.split(b"\r\n", 1)[0] and b"1000" not in answer
    (item,) = mmsc.messages
    assert (item.status_code, item.http_status, item.message_id) == (2007, 500, None)
    assert item.error is not None and "connection lost" in item.error
    assert item.transaction_id == "TID-CUT"  # found in what was read before the cut


@pytest.mark.asyncio
async def test_a_body_error_echoes_the_transaction_id_of_a_readable_header(mmsc: MockMMSC, session):
    # a SubmitReq without recipients: the codec refuses it (4004), its header is fine
    encoded = encode(lgt_submit(transaction_id="TID-4004"), LGT)
    body = re.sub(rb"<Recipients>.*?</Recipients>", b"", encoded.body, flags=re.S)
    answer = await post_mm7(session, mmsc.url, body, content_type=encoded.content_type)
    assert answer.is_fault and answer.status_code in (2007, 4004)
    assert answer.message is not None and answer.message.transaction_id == "TID-4004"
    assert mmsc.messages[-1].transaction_id == "TID-4004"
    # a body with no readable header gets a fault without one, and the record shows none
    answer = await post_mm7(session, mmsc.url, b"<not-soap/>", content_type="text/xml")
    assert answer.is_fault and answer.message is not None
    assert mmsc.messages[-1].transaction_id is None


@pytest.mark.asyncio
async def test_an_unparsable_timestamp_is_kept_as_text(mmsc: MockMMSC, session):
    java = "Wed Dec 02 05:40:59 PST 2026"  # a zone nobody can tell: not read as a date
    answer = await post_mm7(session, mmsc.url, lgt_submit(timestamp_raw=java))
    assert answer.status_code == 1000
    item = mmsc.messages[-1]
    assert item.request is not None and item.request.timestamp_raw == java
    async with session.get(f"{mmsc.base_url}/api/messages/{item.id}") as response:
        shown = await response.json()
    assert shown["fields"]["timestamp_raw"] == java
    assert shown["timestamp_raw"] == java
    assert shown["timestamp"] is None
