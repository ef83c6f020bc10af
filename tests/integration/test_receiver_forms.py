"""The receiver answers in the form a request arrived in, echoes the TransactionID in its faults
whenever the SOAP header was readable, and refuses a truncated multipart (2007, not stored).
Over loopback, with the real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from mm7client.codec import decode, encode
from mm7client.model import (
    Address,
    DeliverRequest,
    DeliveryReportRequest,
    DeliveryReportResponse,
    MessageForm,
    Part,
    SoapFault,
    SubmitRequest,
)
from mm7client.profiles import LGT, MM7_NAMESPACE_PREFIX, THREEGPP
from mm7client.receiver import ReceiverServer, SqliteStore
from mm7client.server import ServerLimits

pytestmark = pytest.mark.asyncio

REL5 = MM7_NAMESPACE_PREFIX + "REL-5-MM7-1-2"
REL6 = MM7_NAMESPACE_PREFIX + "REL-6-MM7-1-4"
FORMS = [
    MessageForm(REL5, "5.3.0", "lgt"),
    MessageForm(REL5, "5.3.0", "default-ns"),
    MessageForm(REL6, "6.8.0", "default-ns"),
    MessageForm(REL6, "6.8.0", "prefixed"),
    MessageForm(MM7_NAMESPACE_PREFIX + "REL-5-MM7-1-0", "5.3.0", "prefixed"),
]


def report(tid: str, form: MessageForm) -> tuple[bytes, str]:
    message = DeliveryReportRequest(
        transaction_id=tid,
        message_id="m-1",
        recipient=Address("01012345678"),
        mm_status="Retrieved",
    )
    encoded = encode(message, THREEGPP, form=form)
    return encoded.body, encoded.content_type


async def post(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.post(url, data=body, headers={"Content-Type": content_type}) as response,
    ):
        return response.status, await response.read()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[SqliteStore, ReceiverServer]]:
    async with SqliteStore(":memory:") as store, ReceiverServer(store) as server:
        yield store, server


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f"{f.namespace[-12:]}-{f.style}")
async def test_the_answer_mirrors_the_request_form(
    receiver: tuple[SqliteStore, ReceiverServer], form: MessageForm
) -> None:
    _store, server = receiver
    status, answer = await post(server.url, *report("tid-form", form))
    assert status == 200
    response = decode(answer)
    assert isinstance(response, DeliveryReportResponse)
    assert response.transaction_id == "tid-form"
    assert response.form == form  # namespace URI, MM7Version and style
    text = answer.decode(LGT.charset)  # the receiver's profile keeps its encoding
    if form.style == "default-ns":
        assert f'<DeliveryReportRsp xmlns="{form.namespace}">' in text
    elif form.style == "prefixed":
        assert "<mm7:Status>" in text
    else:
        assert "<mm7:DeliveryReportRsp" in text and "<Status>" in text


@pytest.mark.parametrize("style", ["lgt", "default-ns", "prefixed"])
async def test_a_forced_answer_form_keeps_the_request_namespace(style: str) -> None:
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, answer_form=style) as server,
    ):
        status, answer = await post(server.url, *report("tid-forced", FORMS[0]))
    assert status == 200
    response = decode(answer)
    assert response.form == MessageForm(REL5, "5.3.0", style)  # type: ignore[arg-type]


async def test_an_unknown_answer_form_is_refused_by_name() -> None:
    async with SqliteStore(":memory:") as store:
        with pytest.raises(ValueError, match="'mirrored'"):
            ReceiverServer(store, answer_form="mirrored")


def fault_of(answer: bytes) -> SoapFault:
    fault = decode(answer)
    assert isinstance(fault, SoapFault) and fault.status is not None
    return fault


async def test_a_truncated_multipart_is_refused_with_2007_its_tid_echoed_and_not_stored(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    store, server = receiver
    mo = DeliverRequest(
        transaction_id="tid-cut",
        sender=Address("01011112222"),
        to=[Address("15881234")],
        content=[Part.from_text("photo"), Part.jpeg(b"\xff\xd8" + b"\x5a" * 20_000)],
    )
    encoded = encode(mo, THREEGPP)
    cut = encoded.body[: len(encoded.body) * 9 // 20]  # the JPEG cut at ~9 KB, no closing
    assert b"--" + encoded.body.split(b"\r\n", 1)[0][2:] + b"--" not in cut
    status, answer = await post(server.url, cut, encoded.content_type)
    assert status == 500
    fault = fault_of(answer)
    assert str(fault.status.code) == "2007"  # type: ignore[union-attr]
    assert fault.transaction_id == "tid-cut"
    assert await store.pending() == []
    # the whole message, resent, is taken
    status, _answer = await post(server.url, encoded.body, encoded.content_type)
    assert status == 200 and len(await store.pending()) == 1


async def test_a_fault_for_a_readable_header_echoes_its_tid_in_the_request_form(
    receiver: tuple[SqliteStore, ReceiverServer],
) -> None:
    _store, server = receiver
    form = MessageForm(REL6, "6.8.0", "default-ns")
    submit = encode(
        SubmitRequest(transaction_id="tid-submit", to=["01012345678"], vas_id="V", vasp_id="P"),
        THREEGPP,
        form=form,
    )
    status, answer = await post(server.url, submit.body, submit.content_type)
    assert status == 500
    fault = fault_of(answer)
    assert str(fault.status.code) == "4003"  # type: ignore[union-attr]
    assert fault.transaction_id == "tid-submit"
    assert f'xmlns="{REL6}"' in answer.decode(LGT.charset)  # in the request's form

    body, content_type = report("tid-broken", form)
    broken = body.replace(b"<MessageID>m-1</MessageID>", b"<MessageID>m-1</Message>")
    status, answer = await post(server.url, broken, content_type)
    assert status == 500
    fault = fault_of(answer)
    assert str(fault.status.code) == "2007"  # type: ignore[union-attr]
    assert fault.transaction_id == "tid-broken"


async def test_a_stalled_body_after_its_header_gets_a_fault_echoing_the_tid() -> None:
    limits = ServerLimits(body_grace=0.3, body_min_rate=100_000.0)
    async with (
        SqliteStore(":memory:") as store,
        ReceiverServer(store, server_limits=limits) as server,
    ):
        body, content_type = report("tid-stalled", FORMS[0])
        head, _sep, _rest = body.partition(b"<env:Body>")
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + head
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        answer = await asyncio.wait_for(reader.readexactly(length), 5.0)
        writer.close()
        assert await store.pending() == []
    assert head.startswith(b"HTTP/1.1 408")
    assert fault_of(answer).transaction_id == "tid-stalled"
