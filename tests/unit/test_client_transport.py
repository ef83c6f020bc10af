"""MM7Client over an injected transport (no sockets) and its grouped settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from mm7client import MM7Client, Part, SubmitRequest
from mm7client.codec import decode, encode
from mm7client.codes import Category, TransportFailure
from mm7client.model import Status, SubmitResponse
from mm7client.profiles import LGT
from mm7client.settings import TLS, Identity, Timeouts
from mm7client.throttle import FakeClock, LocalThrottle, RetryPolicy
from mm7client.transport import HttpReply, Transport, TransportError

Answer = Callable[[SubmitRequest], HttpReply | TransportError]


def status(code: int) -> Answer:
    def answer(request: SubmitRequest) -> HttpReply:
        rsp = SubmitResponse(
            transaction_id=request.transaction_id, status=Status.of(code), message_id="M-1"
        )
        encoded = encode(rsp, LGT)
        return HttpReply(200, encoded.body, encoded.content_type, 0.0)

    return answer


class FakeTransport:
    """Answers each request with the next scripted answer; records what it was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[SubmitRequest, dict[str, str]]] = []
        self.closed = False

    async def send(self, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        request = decode(body, headers["Content-Type"])
        assert isinstance(request, SubmitRequest)
        self.sent.append((request, dict(headers)))
        answer = self.answers.pop(0)(request)
        if isinstance(answer, TransportError):
            raise answer
        return answer

    async def aclose(self) -> None:
        self.closed = True


IDENTITY = Identity(vasp_id="VASP", vas_id="VAS1", kisa_orig_code="123456789", callback="15881234")


@pytest.mark.asyncio
async def test_an_injected_transport_carries_the_messages() -> None:
    fake = FakeTransport(status(1000))
    assert isinstance(fake, Transport)
    async with MM7Client("http://mmsc.invalid/mm7", identity=IDENTITY, transport=fake) as client:
        assert client.transport is fake
        result = await client.submit(SubmitRequest(to=["01012345678"], subject="hi"))
    assert fake.closed
    assert result.ok and result.message_id == "M-1" and result.attempts == 1
    request, headers = fake.sent[0]
    assert headers["Content-Type"] == 'text/xml; charset="euc-kr"'  # no content: SOAP alone
    assert (request.vasp_id, request.vas_id, request.kisa_orig_code, request.callback) == (
        "VASP",
        "VAS1",
        "123456789",
        "15881234",
    )


@pytest.mark.asyncio
async def test_the_policy_runs_over_a_fake_transport_on_a_fake_clock() -> None:
    clock = FakeClock()
    dropped = TransportError(TransportFailure.AMBIGUOUS, "gone", sent=True)
    fake = FakeTransport(status(4030), status(1000), lambda request: dropped)
    async with MM7Client(
        "http://mmsc.invalid/mm7", identity=IDENTITY, transport=fake, clock=clock
    ) as client:
        paused = await client.submit(SubmitRequest(to=["01012345678"]))
        lost = await client.submit(SubmitRequest(to=["01012345678"], content=[Part.from_text("x")]))
    assert paused.ok and paused.attempts == 2 and clock.now() == 60.0
    assert fake.sent[0][0].transaction_id != fake.sent[1][0].transaction_id
    assert lost.ambiguous and lost.category is Category.UNKNOWN and len(fake.sent) == 3
    assert client.stats["VAS1"].paused == 1 and client.stats["VAS1"].ambiguous == 1


@pytest.mark.asyncio
async def test_an_injected_throttle_backend_is_asked_and_closed() -> None:
    class Counting(LocalThrottle):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    backend = Counting(FakeClock())
    fake = FakeTransport(status(7103), status(1000))
    async with MM7Client(
        "http://mmsc.invalid/mm7", identity=IDENTITY, transport=fake, throttle=backend
    ) as client:
        result = await client.submit(SubmitRequest(to=["01012345678"]))
    assert result.ok and backend.stats_of("VAS1").throttled_7103 == 1 and backend.closed
    with pytest.raises(ValueError, match="tps="):
        MM7Client("http://x.invalid/", tps=5, throttle=backend)


def test_grouped_settings_and_their_keywords() -> None:
    grouped = MM7Client(
        "http://x.invalid/", identity=IDENTITY, timeouts=Timeouts(1, 2), tls=TLS(verify=False)
    )
    flat = MM7Client(
        "http://x.invalid/",
        vasp_id="VASP",
        vas_id="VAS1",
        kisa_orig_code="123456789",
        callback="15881234",
        connect_timeout=1,
        total_timeout=2,
        verify_tls=False,
        retry=RetryPolicy.no_retries(),
    )
    for client in (grouped, flat):
        assert client.identity == IDENTITY
        assert client.vas_id == "VAS1"
        assert repr(client.transport).startswith("Http11Transport(")  # the default
    assert repr(MM7Client("http://x.invalid/", transport="aiohttp").transport).startswith(
        "AiohttpTransport("
    )
    with pytest.raises(ValueError, match=r"identity= and vas_id="):
        MM7Client("http://x.invalid/", identity=IDENTITY, vas_id="OTHER")
    with pytest.raises(ValueError, match=r"timeouts= and total="):
        MM7Client("http://x.invalid/", timeouts=Timeouts(), total_timeout=3)
    with pytest.raises(ValueError, match=r"Timeouts\.total=0"):
        Timeouts(total=0)
    with pytest.raises(ValueError, match="timeouts, max_connections: settings of the default"):
        MM7Client(
            "http://x.invalid/", transport=FakeTransport(), total_timeout=3, max_connections=1
        )
