"""Hostile connections against ``mm7 receive`` under a low descriptor limit.

The receiver runs as ``python -m mm7client.cli.receive`` in a child process whose
``RLIMIT_NOFILE`` is 256; 300 connections that send nothing, half a header or a short body are
opened against it. A valid delivery report must still be answered within 2 s, and accept errors
(EMFILE) are logged once per interval, not once per attempt. Bounded: 300 connections, a few
seconds each.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from receiver_process import ReceiverProcess

from mm7client.codec import encode
from mm7client.model import Address, DeliveryReportRequest
from mm7client.profiles import LGT

pytestmark = pytest.mark.asyncio

DESCRIPTOR_LIMIT = 256
HOSTILE_CONNECTIONS = 300
COUNT = re.compile(r"connections \((\d+) time\(s\) since the last report\)")


def low_descriptor_limit() -> None:  # runs in the child, before exec
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, hard))


def limited_receiver(tmp_path: Path, env: dict[str, str]) -> ReceiverProcess:
    """``mm7 receive`` in a child process under :data:`DESCRIPTOR_LIMIT` descriptors."""
    return ReceiverProcess(
        tmp_path / "rx.sqlite",
        tmp_path / "rx.log",
        env={**os.environ, **env},
        preexec_fn=low_descriptor_limit,
    )


@pytest_asyncio.fixture
async def hostile_connections() -> AsyncIterator[list[asyncio.StreamWriter]]:
    writers: list[asyncio.StreamWriter] = []
    yield writers
    for writer in writers:
        writer.close()


async def open_hostile(port: int, writers: list[asyncio.StreamWriter], count: int) -> None:
    """``count`` connections: a third silent, a third with half a header, a third with a body
    much shorter than its Content-Length. Each stays open on the client's side."""
    body, _content_type = report_body("hostile")

    async def one(n: int) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        if n % 3 == 1:
            writer.write(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        elif n % 3 == 2:
            writer.write(
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                b"Content-Length: 50000\r\n\r\n" + body[:40]
            )

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(count))), 10.0)


def report_body(message_id: str) -> tuple[bytes, str]:
    encoded = encode(
        DeliveryReportRequest(
            message_id=message_id, recipient=Address("01012345678"), mm_status="Retrieved"
        ),
        LGT,
    )
    return encoded.body, encoded.content_type


async def post_report(url: str, message_id: str) -> tuple[int, float]:
    body, content_type = report_body(message_id)
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url,
            data=body,
            headers={"Content-Type": content_type},
            timeout=aiohttp.ClientTimeout(total=10.0),
        ) as response,
    ):
        await response.read()
        return response.status, time.monotonic() - started


async def test_a_valid_report_is_answered_within_2_s_among_300_hostile_connections(
    tmp_path: Path, hostile_connections: list[asyncio.StreamWriter]
) -> None:
    receiver = limited_receiver(
        tmp_path,
        {
            "MM7_RECEIVER_HEADER_TIMEOUT": "0.5",
            "MM7_RECEIVER_IDLE_TIMEOUT": "0.5",
            "MM7_RECEIVER_BODY_GRACE": "0.5",
        },
    )
    url = await receiver.start()
    try:
        await open_hostile(receiver.port, hostile_connections, HOSTILE_CONNECTIONS)
        status, waited = await post_report(url, "valid-1")
        assert status == 200
        assert waited < 2.0
        # and again once the flood is gone: served at once
        status, waited = await post_report(url, "valid-2")
        assert status == 200 and waited < 1.0
    finally:
        exit_code = await receiver.stop()
    assert exit_code == 0
    log = receiver.log.read_text()
    # the connection cap (256 - 64 descriptors) kept the receiver from running out of them
    assert "Too many open files" not in log
    assert "Traceback" not in log


async def test_accept_errors_are_logged_once_per_interval(
    tmp_path: Path, hostile_connections: list[asyncio.StreamWriter]
) -> None:
    receiver = limited_receiver(
        tmp_path,
        {
            # a cap above the descriptor limit: the receiver does run out of descriptors
            "MM7_RECEIVER_MAX_CONNECTIONS": "1000",
            "MM7_RECEIVER_HEADER_TIMEOUT": "3",
            "MM7_RECEIVER_ACCEPT_ERROR_INTERVAL": "1",
        },
    )
    url = await receiver.start()
    try:
        started = time.monotonic()
        await open_hostile(receiver.port, hostile_connections, HOSTILE_CONNECTIONS)
        # accepting fails (EMFILE) until the header timeout frees descriptors; then it is served
        status, _waited = await post_report(url, "after-emfile")
        out_of_descriptors = time.monotonic() - started
        assert status == 200
    finally:
        exit_code = await receiver.stop()
    assert exit_code == 0
    lines = [line for line in receiver.log.read_text().splitlines() if "cannot accept" in line]
    assert lines, receiver.log.read_text()
    assert all("Too many open files" in line for line in lines)
    # one line per 1 s interval (plus the first), whereas attempts are every 0.1 s
    assert len(lines) <= out_of_descriptors + 2, lines
    # the attempts not logged are counted in the next line
    counts = [int(m.group(1)) for m in map(COUNT.search, lines) if m is not None]
    assert len(counts) == len(lines), lines
    assert max(counts) > 1, lines
