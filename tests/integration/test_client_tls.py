"""TLS on both client transports: the real client against the mock MMSC served over HTTPS.

A certificate authority and a server certificate for ``localhost`` / ``127.0.0.1`` are made in
the test (``trustme``); the mock's application is served on a loopback port with them. Each
case runs over ``aiohttp`` and ``http11``: verification on against the CA file, verification
off, a ready ``ssl_context``, and a certificate from another CA refused as a TLS failure that
says so (nothing sent, no retry storm).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import trustme
from aiohttp import web

from mm7client import MM7Client, Part, SubmitRequest
from mm7client.codes import Category, TransportFailure
from mm7client.throttle import RetryPolicy
from mockmmsc import MockMMSC, MockSettings

TRANSPORTS = ["aiohttp", "http11"]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest_asyncio.fixture
async def https_mmsc(authority: trustme.CA) -> AsyncIterator[tuple[str, MockMMSC]]:
    """The mock MMSC's application served over HTTPS on 127.0.0.1 (free port)."""
    mock = MockMMSC(MockSettings(host="127.0.0.1", port=0, time_scale=0.01))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    runner = web.AppRunner(mock.app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://localhost:{port}/mm7", mock
    finally:
        await runner.cleanup()


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def client(url: str, transport: str, **options: object) -> MM7Client:
    return MM7Client(
        url,
        transport=transport,  # type: ignore[arg-type]
        vasp_id="VASP",
        vas_id="VAS1",
        kisa_orig_code="123456789",
        callback="15881234",
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        **options,  # type: ignore[arg-type]
    )


def message() -> SubmitRequest:
    return SubmitRequest(to=["01012345678"], subject="TLS", content=[Part.from_text("본문")])


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_verified_against_the_ca_file(https_mmsc, ca_file: str, transport: str) -> None:
    url, mock = https_mmsc
    async with client(url, transport, ca_file=ca_file) as mm7:
        results = [await mm7.submit(message()) for _ in range(3)]
    assert [r.normalized.category for r in results] == [Category.SUCCESS] * 3
    assert len(mock.store.messages) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_ready_ssl_context_is_used(
    https_mmsc, authority: trustme.CA, transport: str
) -> None:
    url, mock = https_mmsc
    context = ssl.create_default_context()
    authority.configure_trust(context)
    async with client(url, transport, ssl_context=context) as mm7:
        result = await mm7.submit(message())
    assert result.normalized.category is Category.SUCCESS
    assert len(mock.store.messages) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_verification_off_accepts_an_unknown_ca(https_mmsc, transport: str) -> None:
    url, mock = https_mmsc
    async with client(url, transport, verify_tls=False) as mm7:
        result = await mm7.submit(message())
    assert result.normalized.category is Category.SUCCESS
    assert len(mock.store.messages) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("trust", ["system", "other CA"])
async def test_a_certificate_from_an_untrusted_ca_is_refused(
    https_mmsc, tmp_path: Path, transport: str, trust: str
) -> None:
    url, mock = https_mmsc
    options: dict[str, object] = {}
    if trust == "other CA":
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        options["ca_file"] = str(other)
    async with client(url, transport, **options) as mm7:
        result = await mm7.submit(message())
    assert result.normalized.category is Category.RETRY
    assert result.normalized.origin_result == TransportFailure.CONNECTION_ERROR.value
    detail = (result.normalized.status_text or "").lower()
    assert "certificate" in detail and "verify" in detail, detail
    assert not result.ambiguous
    assert len(mock.store.messages) == 0  # nothing reached the MM7 endpoint
